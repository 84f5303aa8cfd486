import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Testing

/// Issue 9 §6, the CLI contract: exit codes from the README's table, one JSON error object on
/// stderr with `--json`, TRACEPARENT, negative numbers, unknown verbs, text from files, and
/// `task list`/`task show --json` agreeing.
@Suite struct CLIContractTests {
    static let startT1 = BadInput.startT1

    /// One failing invocation with `--json`: its exit, code, and the members it must carry.
    struct JSONFailure: Sendable, CustomTestStringConvertible {
        let name: String
        let exit: Int32
        let code: String
        var members: [String: JSONValue] = [:]
        var steps: [[String]] = []
        let command: @Sendable (CLIFixture) -> [String]
        var stdoutAllowed = false
        var testDescription: String { name }
    }

    static let jsonFailures: [JSONFailure] = [
        JSONFailure(name: "usage error (missing value)", exit: 2, code: "usage", steps: [startT1]) { _ in
            ["task", "progress", "T1", "--persona", "WORKER", "--json", "--percent"]
        },
        JSONFailure(name: "usage error (unknown option)", exit: 2, code: "usage") { _ in startT1 + ["--json", "--frobnicate"] },
        JSONFailure(name: "unknown verb", exit: 2, code: "usage", members: ["verb": "update"]) { _ in ["task", "update", "T1", "--json"] },
        JSONFailure(name: "unknown persona", exit: 4, code: "not_found", members: ["persona": "NOBODY"]) { _ in
            ["task", "start", "T1", "--persona", "NOBODY", "--json"]
        },
        JSONFailure(name: "unknown task", exit: 4, code: "not_found", members: ["plan": "EP-TEST", "task": "T9"]) { _ in
            ["task", "start", "T9", "--persona", "WORKER", "--json"]
        },
        JSONFailure(name: "refused dependency", exit: 3, code: "refused",
                    members: ["rule": "dependencies_done", "plan": "EP-TEST", "task": "T2",
                              "unmet_dependencies": [["task_id": "T1", "status": "IN_PROGRESS"]]],
                    steps: [startT1]) { _ in ["task", "start", "T2", "--persona", "WORKER", "--json"] },
        JSONFailure(name: "conflict", exit: 3, code: "conflict",
                    members: ["rule": "expected_seq", "task": "T1", "actual_seq": 1, "expected_seq": 0], steps: [startT1]) { _ in
            ["task", "progress", "T1", "--percent", "5", "--persona", "WORKER", "--expect-seq", "0", "--json"]
        },
        JSONFailure(name: "bad signature (another persona's key)", exit: 5, code: "bad_signature", members: ["rule": "signature"]) { f in
            let other = String(decoding: TestSupport.bytes(f.ws.keyPath("TESTER_BOT")), as: UTF8.self)
            return startT1 + ["--json", "--key-file", f.scratchFile("other.key", other, mode: 0o600)]
        },
        JSONFailure(name: "malformed JSON import (a command without its own --json)", exit: 2, code: "bad_input") { f in
            ["plan", "import", f.scratchFile("bad.json", "{\"payload\": <g>}"), "--json"]
        },
        JSONFailure(name: "negative number", exit: 2, code: "bad_input", steps: [startT1]) { _ in
            ["task", "test", "T1", "--suite", "u", "--passed", "-1", "--failed", "0", "--persona", "WORKER", "--json"]
        },
        JSONFailure(name: "verify failure (an edited journal line)", exit: 6, code: "corrupt",
                    members: ["verification_failed": true, "kind": "edited", "seq": 1],
                    steps: [startT1], command: { f in
                        var lines = f.journalLines()
                        lines[1] = lines[1].replacingOccurrences(of: "\"started\"", with: "\"blocked\"")
                        f.writeJournal(lines: lines)
                        return ["verify", "--json"]
                    }, stdoutAllowed: true),
        JSONFailure(name: "verify failure (damaged personas.json)", exit: 6, code: "corrupt",
                    members: ["verification_failed": true], command: { f in
                        let path = f.root + "/personas.json"
                        let text = String(decoding: TestSupport.bytes(path), as: UTF8.self)
                        let key = try! #require(TestSupport.personas(f.ws)["WORKER"]?.publicKey?.base64)
                        _ = FileManager.default.createFile(atPath: path, contents: Data(text.replacingOccurrences(of: key, with: "AAAA" + key.dropFirst(4)).utf8))
                        return ["verify", "--json"]
                    }, stdoutAllowed: true),
    ]

    /// Each failure with --json: exit as the table says, exactly one JSON object on stderr with
    /// the fixed members and the facts, nothing on stdout (verify prints its report there).
    @Test(arguments: jsonFailures)
    func jsonErrorIsOneObjectOnStderr(_ c: JSONFailure) async throws {
        let f = try await CLIFixture.make("jsonerr")
        for s in c.steps { try f.ok(s) }
        let r = try f.cli(c.command(f))
        #expect(r.status == c.exit, "\(c.name): exit \(r.status): \(r.stderr)")
        if !c.stdoutAllowed { #expect(r.stdout.isEmpty, "\(c.name): stdout: \(r.stdout)") }
        #expect(r.stderrLines.count == 1, "\(c.name): stderr must be one line: \(r.stderr)")
        let o = try #require(try JSONParser.parse(Array(r.stderr.utf8))["error"]?.objectValue, "\(c.name): \(r.stderr)")
        #expect(Set(LogbookError.jsonFields).isSubset(of: Set(o.keys)), "\(c.name): \(o.keys)")
        #expect(o["exit"]?.intValue == Int(c.exit) && o["code"]?.stringValue == c.code, "\(c.name): \(r.stderr)")
        #expect(o["message"]?.stringValue?.isEmpty == false)
        for (k, v) in c.members { #expect(o[k] == v, "\(c.name): \(k) is \(o[k].map { CanonicalJSON.string($0) } ?? "absent"), expected \(CanonicalJSON.string(v))") }
    }

    /// The same failures without --json: one `logbook: error:` line, the same exit.
    @Test(arguments: jsonFailures.filter { !$0.stdoutAllowed })
    func humanErrorIsOneLine(_ c: JSONFailure) async throws {
        let f = try await CLIFixture.make("humanerr")
        for s in c.steps { try f.ok(s) }
        let r = try f.cli(c.command(f).filter { $0 != "--json" })
        expectOneLineError(r, code: c.exit, mentions: [], c.name)
    }

    /// `verify` on damaged or swapped trust roots is a verification failure (6) naming what
    /// the genesis recorded (it was exit 2, bad input).
    @Test(arguments: ["damaged key", "swapped keys", "not JSON"])
    func verifyOnDamagedTrustRoots(_ how: String) async throws {
        let f = try await CLIFixture.make("roots")
        let path = f.root + "/personas.json"
        var text = String(decoding: TestSupport.bytes(path), as: UTF8.self)
        let reg = try await f.ws.engine.personas()
        let w1 = try #require(reg["WORKER"]?.publicKey), w2 = try #require(reg["WORKER2"]?.publicKey)
        switch how {
        case "damaged key": text = text.replacingOccurrences(of: w1.base64, with: "AAAA" + w1.base64.dropFirst(4))
        case "swapped keys":
            text = text.replacingOccurrences(of: w1.base64, with: "@1").replacingOccurrences(of: w2.base64, with: w1.base64)
                .replacingOccurrences(of: "@1", with: w2.base64)
        default: text = "{ not json"
        }
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        let r = try f.cli(["verify"])
        #expect(r.status == 6, "\(how): \(r.status) \(r.stderr)")
        #expect(r.stderr.contains("verify FAILED") && r.stderr.contains("trust roots"), "\(r.stderr)")
        #expect(r.stderr.contains("the genesis recorded") && r.stderr.contains(w1.keyID), "\(how): \(r.stderr)")
    }

    /// Exit codes of the README's table where they differed: usage errors 2 (argument-parser
    /// says 64), an unknown persona 4 (was 3); --help still 0.
    @Test(arguments: [
        (["task", "progress", "T1", "--persona", "WORKER"], Int32(2), "--percent"),
        (["task", "start"], 2, "task"),
        (["status", "--bogus"], 2, "--bogus"),
        (["task", "start", "T1", "--persona", "NOBODY"], 4, "unknown persona NOBODY"),
        (["task", "update", "T1"], 2, "unknown verb \"update\""),
        (["task", "complete", "T1", "--persona", "WORKER"], 2, "unknown verb \"complete\""),
        (["persona", "remove", "WORKER"], 2, "the verbs are: add, list, rotate"),
        (["frobnicate"], 2, "unknown verb \"frobnicate\" for `logbook`"),
        (["log", "--task", "NOPE"], 4, "unknown task NOPE"),
        (["log", "--task", "NOPE", "--json"], 4, "unknown task NOPE"),
    ])
    func exitCodes(_ args: [String], _ code: Int32, _ mention: String) async throws {
        let f = try await CLIFixture.make("exit")
        let before = WorkspaceBytes(f.root)
        let r = try f.cli(args)
        expectOneLineError(r, code: code, mentions: [mention], args.joined(separator: " "))
        #expect(before.changes(to: WorkspaceBytes(f.root)).isEmpty)
    }

    @Test func unknownVerbListsTheVerbs() async throws {
        let f = try await CLIFixture.make("verbs")
        let r = try f.cli(["task", "update", "T1"])
        for verb in ["start", "progress", "test", "block", "unblock", "fail", "retry", "done", "achieve", "override", "reopen", "waive", "show", "list"] {
            #expect(r.stderr.contains(verb), "\(verb) missing: \(r.stderr)")
        }
        for help in [["--help"], ["task", "--help"], ["help", "task"], ["task", "start", "--help"]] {
            let h = try TestSupport.logbook(help)
            #expect(h.status == 0 && !h.stdout.isEmpty, "\(help): \(h.status) \(h.stderr)")
        }
        let discussion = try TestSupport.logbook(["--help"]).stdout
        #expect(discussion.contains("8 unsupported") && discussion.contains("network file system") && discussion.contains("\"error\""))
    }

    /// Negative numbers reach the check, which says "must be ≥ 0" (argument-parser said
    /// "Missing value" for `--passed -1`).
    @Test(arguments: [
        ["task", "progress", "T1", "--percent", "-5", "--persona", "WORKER"],
        ["task", "test", "T1", "--suite", "u", "--passed", "-1", "--failed", "0", "--persona", "WORKER"],
        ["task", "test", "T1", "--suite", "u", "--passed", "1", "--failed", "-3", "--persona", "WORKER"],
        ["task", "test", "T1", "--suite", "u", "--passed", "1", "--failed", "0", "--skipped", "-1", "--persona", "WORKER"],
        ["task", "progress", "T1", "--percent", "5", "--expect-seq", "-2", "--persona", "WORKER"],
    ])
    func negativeNumbersMustBeNonNegative(_ args: [String]) async throws {
        let f = try await CLIFixture.make("neg")
        try f.ok(Self.startT1)
        let before = WorkspaceBytes(f.root)
        let r = try f.cli(args)
        let option = args[args.firstIndex(where: { $0.hasPrefix("-") && Int($0) != nil })! - 1]
        expectOneLineError(r, code: 2, mentions: ["\(option) must be ≥ 0", "got -"], args.joined(separator: " "))
        #expect(!r.stderr.contains("Missing value"))
        #expect(before.changes(to: WorkspaceBytes(f.root)).isEmpty)
    }

    /// An invalid TRACEPARENT is ignored with a warning (W3C trace-context); the event is
    /// recorded without a trace id. A valid one is used; --trace-id stays strict.
    @Test(arguments: ["not-a-traceparent", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-xyz"])
    func invalidTraceparentIsIgnoredWithAWarning(_ tp: String) async throws {
        let f = try await CLIFixture.make("tp")
        let r = try f.cli(Self.startT1 + ["--json"], env: ["TRACEPARENT": tp])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("warning") && r.stderr.contains("TRACEPARENT"), "\(r.stderr)")
        let e = try expectVerifiedEvent(r.stdout, key: try await f.ws.engine.personas()["WORKER"]?.publicKey)
        #expect(e.traceID == nil)
        let good = try f.ok(["task", "progress", "T1", "--percent", "1", "--persona", "WORKER", "--json"],
                            env: ["TRACEPARENT": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"])
        #expect(try Event(line: Array(good.stdout.dropLast().utf8)).traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(good.stderr.isEmpty)
        let strict = try f.cli(["task", "progress", "T1", "--percent", "2", "--persona", "WORKER", "--trace-id", "XYZ"])
        #expect(strict.status == 2)
    }
}
