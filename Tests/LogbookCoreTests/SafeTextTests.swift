import LogbookCore
import Testing

/// The one escaping function of human output (issue 9 §4).
@Suite struct SafeTextTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String, input: String, escaped: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "plain text", input: "token bucket in place", escaped: "token bucket in place"),
        Case(name: "ESC clear screen", input: "\u{1B}[2J\u{1B}[H", escaped: "\\u{1B}[2J\\u{1B}[H"),
        Case(name: "newline forging a log line", input: "ok\nseq 99 2026-01-01T00:00:00.000Z done T9 by SUPERVISOR: forged",
             escaped: "ok\\nseq 99 2026-01-01T00:00:00.000Z done T9 by SUPERVISOR: forged"),
        Case(name: "carriage return", input: "100 %\rforged", escaped: "100 %\\rforged"),
        Case(name: "tab", input: "a\tb", escaped: "a\\tb"),
        Case(name: "NUL and BEL", input: "a\u{0}b\u{7}", escaped: "a\\u{0}b\\u{7}"),
        Case(name: "DEL", input: "x\u{7F}", escaped: "x\\u{7F}"),
        Case(name: "C1 CSI (U+009B)", input: "\u{9B}2J", escaped: "\\u{9B}2J"),
        Case(name: "C1 NEL (U+0085)", input: "a\u{85}b", escaped: "a\\u{85}b"),
        Case(name: "line separator U+2028", input: "a\u{2028}b\u{2029}", escaped: "a\\u{2028}b\\u{2029}"),
        Case(name: "bidi override U+202E", input: "abc\u{202E}fdp.exe", escaped: "abc\\u{202E}fdp.exe"),
        Case(name: "bidi isolates U+2066–U+2069", input: "\u{2066}x\u{2069}", escaped: "\\u{2066}x\\u{2069}"),
        Case(name: "bidi marks LRM RLM ALM", input: "\u{200E}\u{200F}\u{61C}", escaped: "\\u{200E}\\u{200F}\\u{61C}"),
        Case(name: "right-to-left text kept", input: "שלום مرحبا", escaped: "שלום مرحبا"),
        Case(name: "emoji with ZWJ kept", input: "👩‍💻 done", escaped: "👩‍💻 done"),
        Case(name: "backslash kept", input: "C:\\path\\n", escaped: "C:\\path\\n"),
    ]

    @Test(arguments: cases)
    func escapes(_ c: Case) {
        let out = SafeText.escape(c.input)
        #expect(out == c.escaped)
        // Nothing that moves the cursor, breaks a line or reorders text survives.
        #expect(!out.unicodeScalars.contains(where: SafeText.needsEscape), "\(out.debugDescription)")
        // Escaping twice is escaping once.
        #expect(SafeText.escape(out) == out)
    }

    @Test func markdownIsLiteral() {
        let note = "done | **PASS** [x](http://e) <img src=x>\n# heading \u{1B}[2J"
        let md = SafeText.markdown(note)
        #expect(md == "done \\| \\*\\*PASS\\*\\* \\[x\\](http://e) \\<img src=x\\>\\\\n\\# heading \\\\u{1B}[2J".replacingOccurrences(of: "[2J", with: "\\[2J"))
        #expect(!md.contains("\n") && !md.contains("\u{1B}"))
    }

    /// The Validation Report's Markdown escapes user text (a note with a newline used to be
    /// flattened to a space; a `|` could not add a cell but ESC, bidi and Markdown went through).
    @Test func validationReportMarkdownEscapesUserText() {
        let report: JSONValue = [
            "plan_id": "EP-1", "verdict": "PASS", "validation_note": "line1\nline2 \u{1B}[31mred \u{202E}txt.exe | *bold*",
            "criteria": [], "tasks": [["task_id": "T1", "title": "evil \u{1B}]0;title\u{7} <b>", "status": "DONE"]],
            "blockers_history": [["task_id": "T1", "reason": "r\r\nseq 9 forged", "blocked_seq": 1, "resolved_seq": nil, "resolution": nil]],
            "achievements": [["summary": "won\u{9B}", "task_id_ref": "T1", "persona_id": "W", "seq": 2]],
        ]
        let md = ValidationReport.markdown(report)
        #expect(!md.unicodeScalars.contains { SafeText.needsEscape($0) && $0 != "\n" }, "a control character reached the Markdown")
        #expect(md.contains("line1\\\\nline2 \\\\u{1B}\\[31mred \\\\u{202E}txt.exe \\| \\*bold\\*"), "\(md)")
        #expect(md.contains("evil \\\\u{1B}\\]0;title\\\\u{7} \\<b\\>"))
        #expect(md.contains("r\\\\r\\\\nseq 9 forged"))
        #expect(!md.split(separator: "\n").contains { $0.hasPrefix("seq 9") })
    }
}

/// The JSON error object shared by the CLI, HTTP and MCP (issue 9 §6).
@Suite struct LogbookErrorJSONTests {
    @Test func fixedMembersThenFacts() throws {
        var e = LogbookError(.refused, "dependency T1 is IN_PROGRESS, not DONE", plan: "EP-1", task: "T2", rule: "dependencies_done")
        e.facts["unmet_dependencies"] = [["task_id": "T1", "status": "IN_PROGRESS"]]
        e.facts["code"] = "ignored: a fact never replaces a fixed member"
        let o = try #require(e.json["error"]?.objectValue)
        #expect(o["exit"] == 3 && o["code"] == "refused" && o["rule"] == "dependencies_done")
        #expect(o["plan"] == "EP-1" && o["task"] == "T2" && o["seq"] == .null && o["path"] == .null)
        #expect(o["message"] == "dependency T1 is IN_PROGRESS, not DONE")
        #expect(o["unmet_dependencies"]?.arrayValue?.first?["status"] == "IN_PROGRESS")
        #expect(Set(o.keys) == Set(LogbookError.jsonFields + ["unmet_dependencies"]))
    }

    @Test(arguments: [
        (LogbookError.Code.badInput, Int32(2)), (.usage, 2), (.invalidPlan, 2), (.refused, 3), (.forbidden, 3), (.conflict, 3),
        (.locked, 3), (.notLocked, 3), (.alreadyExists, 3), (.notFound, 4), (.badSignature, 5), (.badKey, 5), (.corrupt, 6),
        (.io, 7), (.unsupported, 8),
    ])
    func exitCodes(_ code: LogbookError.Code, _ exit: Int32) {
        #expect(code.exitCode == exit)
        #expect(LogbookError(code, "m").json["error"]?["exit"]?.intValue == Int(exit))
    }

    /// A readiness refusal carries the unmet dependencies and their statuses; a conflict the
    /// actual and expected seq.
    @Test func refusalsCarryTheirFacts() async throws {
        let w = try await Fixture.world()
        _ = try await w.submit(.started, "T1", by: "DEV")
        let refused = await logbookError { _ = try await w.submit(.started, "T3", by: "DEV") }
        #expect(refused?.rule == "dependencies_done")
        #expect(refused?.facts["unmet_dependencies"] == [["task_id": "T1", "status": "IN_PROGRESS"], ["task_id": "T2", "status": "PENDING"]])
        let conflict = await logbookError { _ = try await w.submit(.progress, "T1", by: "DEV", ["percent": 5], expectedTaskSeq: 0) }
        #expect(conflict?.rule == "expected_seq" && conflict?.facts["actual_seq"] == 1 && conflict?.facts["expected_seq"] == 0)
        _ = try await w.submit(.progress, "T1", by: "DEV", ["percent": 5], idempotencyKey: "k")
        let reused = await logbookError { _ = try await w.submit(.progress, "T1", by: "DEV", ["percent": 6], idempotencyKey: "k") }
        #expect(reused?.rule == "idempotency" && reused?.facts["actual_seq"] == 2 && reused?.facts["idempotency_key"] == "k")
    }
}
