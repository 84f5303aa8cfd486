import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Testing

/// Issue 9 §4: user text in human output is escaped (no terminal control, no forged line);
/// `--json` keeps it exactly.
@Suite struct CLIOutputSafetyTests {
    struct Hostile: Sendable, CustomTestStringConvertible {
        let name: String
        let text: String
        /// What human output shows instead.
        let shown: String
        var testDescription: String { name }
    }

    static let hostile: [Hostile] = [
        Hostile(name: "ESC clear screen", text: "x \u{1B}[2J\u{1B}[H y", shown: "x \\u{1B}[2J\\u{1B}[H y"),
        Hostile(name: "newline forging a log line", text: "ok\nseq 99 2026-01-01T00:00:00.000Z done T3 by SUPERVISOR: forged",
                shown: "ok\\nseq 99 2026-01-01T00:00:00.000Z done T3 by SUPERVISOR: forged"),
        Hostile(name: "carriage return", text: "50 %\rforged", shown: "50 %\\rforged"),
        Hostile(name: "tabs", text: "a\tb\tc", shown: "a\\tb\\tc"),
        Hostile(name: "bidi override", text: "report\u{202E}txt.exe", shown: "report\\u{202E}txt.exe"),
        Hostile(name: "C1 CSI", text: "a\u{9B}31mb", shown: "a\\u{9B}31mb"),
        Hostile(name: "OSC title + BEL", text: "\u{1B}]0;pwned\u{7}", shown: "\\u{1B}]0;pwned\\u{7}"),
    ]

    /// No control character other than the line ends, no bidi control, and no line that
    /// starts like an event line except the real ones.
    static func expectSafe(_ out: String, _ context: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let bad = out.unicodeScalars.filter { SafeText.needsEscape($0) && $0 != "\n" }
        #expect(bad.isEmpty, "\(context): control characters \(bad.map { String($0.value, radix: 16) }) in \(out.debugDescription)", sourceLocation: sourceLocation)
        #expect(!out.split(separator: "\n").contains { $0.hasPrefix("seq 99") }, "\(context): a forged line: \(out)", sourceLocation: sourceLocation)
    }

    @Test(arguments: hostile)
    func hostileTextIsEscapedInHumanOutputAndExactInJSON(_ h: Hostile) async throws {
        let f = try await CLIFixture.make("safe")
        try f.ok(BadInput.startT1)
        try f.ok(["task", "progress", "T1", "--percent", "40", "--note", h.text, "--persona", "WORKER"])
        try f.ok(["task", "block", "T1", "--reason", h.text, "--persona", "WORKER"])
        try f.ok(["task", "achieve", "T2", "--summary", h.text, "--persona", "WORKER"])
        for args in [["log"], ["status"], ["task", "show", "T1"], ["task", "list"], ["log", "--task", "T1"]] {
            let r = try f.ok(args)
            Self.expectSafe(r.stdout + r.stderr, "\(h.name): \(args.joined(separator: " "))")
        }
        let log = try f.ok(["log"]).stdout
        #expect(log.split(separator: "\n").count == 5, "one line per event: \(log)")
        #expect(log.contains("40 % — \(h.shown)") && log.contains("blocked T1 by WORKER: \(h.shown)"), "\(log)")
        #expect(try f.ok(["task", "show", "T1"]).stdout.contains("blocked: \(h.shown)"))
        // The status table cuts a long reason; the shown part is escaped.
        #expect(try f.ok(["status"]).stdout.contains("blockers: T1 (\(h.shown))"))
        // JSON keeps the exact text.
        let lines = try f.ok(["log", "--json"]).stdout.split(separator: "\n").map { try Event(line: Array($0.utf8)) }
        #expect(lines[2].data["note"]?.stringValue == h.text && lines[3].data["reason"]?.stringValue == h.text)
        let show = try JSONParser.parse(Array(try f.ok(["task", "show", "T1", "--json"]).stdout.utf8))
        #expect(show["open_blockers"]?.arrayValue?.first?["reason"]?.stringValue == h.text)
        let status = try JSONParser.parse(Array(try f.ok(["status", "--json"]).stdout.utf8))
        #expect(status["payload"]?["key_achievements_log"]?.arrayValue?.first?["achievement_summary"]?.stringValue == h.text)
    }

    /// Titles are user text too (plan add-task takes any title): status, task list and task show.
    @Test func hostileTitlesAreEscaped() async throws {
        let ws = try Workspace.create(at: TestSupport.tempDirectory("title"))
        try await ws.engine.addPersona("SUPERVISOR", role: .supervisor)
        try await ws.engine.addPersona("WORKER", role: .worker)
        var plan = TestSupport.planJSON(id: "EP-T", worker: "WORKER", worker2: "WORKER").objectValue!
        var payload = plan["payload"]!.objectValue!
        var tasks = payload["tasks"]!.arrayValue!.map { $0.objectValue! }
        tasks[0]["title"] = "evil \u{1B}[2J\nseq 99 forged \u{202E}"
        payload["tasks"] = .array(tasks.map { .object($0) })
        plan["payload"] = .object(payload)
        _ = try await ws.engine.importPlan(bytes: CanonicalJSON.bytes(.object(plan)), name: "p.json")
        _ = try await ws.engine.lockPlan("EP-T", persona: "SUPERVISOR", signer: try await ws.engine.signingKey(for: "SUPERVISOR"))
        for args in [["status"], ["task", "list"], ["task", "show", "T1"]] {
            let r = try TestSupport.logbook(args + ["--workspace", ws.root])
            #expect(r.status == 0, "\(r.stderr)")
            Self.expectSafe(r.stdout, args.joined(separator: " "))
            #expect(r.stdout.contains("evil \\u{1B}[2J\\nseq 99"), "\(args): \(r.stdout)")
        }
        let list = try TestSupport.logbook(["task", "list", "--json", "--workspace", ws.root])
        #expect(try JSONParser.parse(Array(list.stdout.utf8)).arrayValue?.first?["title"]?.stringValue == tasks[0]["title"]?.stringValue)
    }

    /// Error messages escape what they quote.
    @Test func errorMessagesAreEscaped() async throws {
        let f = try await CLIFixture.make("errsafe")
        let r = try f.cli(["task", "start", "T1\u{1B}[2J", "--persona", "WORKER"])
        expectOneLineError(r, code: 2, mentions: ["\\u{1B}[2J"], "escaped id")
        Self.expectSafe(r.stderr, "error line")
        let verb = try f.cli(["task", "up\ndate"])
        expectOneLineError(verb, code: 2, mentions: ["up\\ndate"], "escaped verb")
    }
}
