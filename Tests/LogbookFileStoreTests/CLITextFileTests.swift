import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Testing

/// Issue 9 §6: `--note-file` / `--reason-file` / `--summary-file` (`-` for stdin) on every verb
/// that takes that text; exclusive with the inline option; the size limit still refuses.
@Suite struct CLITextFileTests {
    struct Verb: Sendable, CustomTestStringConvertible {
        let option: String
        let field: String
        let before: [[String]]
        let args: [String]
        var testDescription: String { "\(args[1]) --\(option)-file" }
    }

    static let startT1 = BadInput.startT1
    static let startT4 = ["task", "start", "T4", "--persona", "WORKER2"]
    static let verbs: [Verb] = [
        Verb(option: "note", field: "note", before: [startT1], args: ["task", "progress", "T1", "--percent", "5", "--persona", "WORKER"]),
        Verb(option: "reason", field: "reason", before: [startT1], args: ["task", "block", "T1", "--persona", "WORKER"]),
        Verb(option: "reason", field: "reason", before: [startT1, ["task", "block", "T1", "--reason", "r", "--persona", "WORKER"]],
             args: ["task", "unblock", "T1", "--persona", "SUPERVISOR"]),
        Verb(option: "reason", field: "reason", before: [startT4], args: ["task", "fail", "T4", "--persona", "WORKER2"]),
        Verb(option: "reason", field: "reason", before: [startT4, ["task", "fail", "T4", "--reason", "x", "--persona", "WORKER2"]],
             args: ["task", "retry", "T4", "--persona", "WORKER2"]),
        Verb(option: "summary", field: "summary", before: [startT1], args: ["task", "done", "T1", "--persona", "WORKER"]),
        Verb(option: "summary", field: "summary", before: [], args: ["task", "achieve", "T3", "--persona", "WORKER"]),
        Verb(option: "reason", field: "reason", before: [], args: ["task", "override", "T2", "--rule", "dependencies_done", "--persona", "SUPERVISOR"]),
        Verb(option: "reason", field: "reason", before: [startT1, ["task", "done", "T1", "--persona", "WORKER"]],
             args: ["task", "reopen", "T1", "--persona", "SUPERVISOR"]),
        Verb(option: "reason", field: "reason", before: [], args: ["task", "waive", "T5", "--persona", "SUPERVISOR"]),
    ]

    static let long = (1...100).map { "line \($0): \u{1B}[1mbold\u{1B}[0m and \"quotes\" — é" }.joined(separator: "\n")

    @Test(arguments: verbs)
    func fromAFile(_ v: Verb) async throws {
        let f = try await CLIFixture.make("tf")
        for s in v.before { try f.ok(s) }
        let path = f.scratchFile("text.txt", Self.long + "\n")
        let r = try f.ok(v.args + ["--\(v.option)-file", path, "--json"])
        #expect(Self.long.utf8.count > 4096 && Self.long.utf8.count <= Event.maxTextBytes)
        let e = try Event(line: Array(r.stdout.dropLast().utf8))
        #expect(e.data[v.field]?.stringValue == Self.long, "one trailing newline dropped, the rest exact")
    }

    @Test(arguments: verbs)
    func fromStdin(_ v: Verb) async throws {
        let f = try await CLIFixture.make("tfin")
        for s in v.before { try f.ok(s) }
        let r = try Self.run(v.args + ["--\(v.option)-file", "-", "--json", "--workspace", f.root], stdin: "from stdin\nsecond line\n")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try Event(line: Array(r.stdout.dropLast().utf8)).data[v.field]?.stringValue == "from stdin\nsecond line")
    }

    /// Both forms: exit 2. A missing file: exit 4 naming it. Over 8 KiB: refused (2), not cut.
    /// Nothing is written in each case.
    @Test(arguments: verbs)
    func refusals(_ v: Verb) async throws {
        let f = try await CLIFixture.make("tfbad")
        for s in v.before { try f.ok(s) }
        let ok = f.scratchFile("ok.txt", "fine")
        let big = f.scratchFile("big.txt", String(repeating: "n", count: Event.maxTextBytes + 1))
        let cases: [([String], Int32, [String])] = [
            (["--\(v.option)", "inline", "--\(v.option)-file", ok], 2, ["--\(v.option) and --\(v.option)-file"]),
            (["--\(v.option)-file", f.scratch + "/missing.txt"], 4, ["--\(v.option)-file", "missing.txt"]),
            (["--\(v.option)-file", big], 2, ["rule size_limit", "big.txt", "\(Event.maxTextBytes) bytes"]),
            (["--\(v.option)-file", f.scratch], 2, ["is a folder"]),
        ]
        for (extra, code, mentions) in cases {
            let before = WorkspaceBytes(f.root)
            let r = try f.cli(v.args + extra)
            expectOneLineError(r, code: code, mentions: mentions, "\(v.testDescription) \(extra)")
            #expect(before.changes(to: WorkspaceBytes(f.root)).isEmpty)
        }
    }

    static func run(_ args: [String], stdin: String) throws -> TestSupport.Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestSupport.binary)
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        for k in ["LOGBOOK_WORKSPACE", "LOGBOOK_PERSONA", "LOGBOOK_KEY_FILE", "TRACEPARENT"] { env.removeValue(forKey: k) }
        p.environment = env
        let input = Pipe(), out = Pipe(), err = Pipe()
        p.standardInput = input
        p.standardOutput = out
        p.standardError = err
        try p.run()
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try input.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return TestSupport.Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }
}

/// Issue 9 §6: `task list --json` and `task show --json` agree, and carry what a supervisor
/// needs to see who went quiet.
@Suite struct CLITaskJSONTests {
    @Test func listAndShowAgree() async throws {
        let f = try await CLIFixture.make("tj")
        try f.ok(BadInput.startT1)
        try f.ok(["task", "progress", "T1", "--percent", "30", "--persona", "WORKER"])
        try f.ok(["task", "start", "T5", "--persona", "TESTER_BOT"])
        try f.ok(["task", "block", "T5", "--reason", "waiting", "--persona", "TESTER_BOT"])
        try f.ok(["task", "start", "T4", "--persona", "WORKER2"])
        try f.ok(["task", "fail", "T4", "--reason", "x", "--persona", "WORKER2"])
        try f.ok(["task", "retry", "T4", "--reason", "y", "--persona", "WORKER2"])
        let list = try #require(try JSONParser.parse(Array(try f.ok(["task", "list", "--json"]).stdout.utf8)).arrayValue)
        #expect(list.count == 5)
        let events = try f.ok(["log", "--json"]).stdout.split(separator: "\n").map { try Event(line: Array($0.utf8)) }
        for row in list {
            let id = try #require(row["task_id"]?.stringValue)
            let show = try #require(try JSONParser.parse(Array(try f.ok(["task", "show", id, "--json"]).stdout.utf8)).objectValue)
            for (k, v) in try #require(row.objectValue) { #expect(show[k] == v, "\(id): \(k) differs: list \(v), show \(show[k].map { CanonicalJSON.string($0) } ?? "absent")") }
            for k in ["dependencies", "unmet_dependencies", "open_blockers", "owner", "attempts", "max_retries", "last_event_seq", "last_event_ts"] {
                #expect(row[k] != nil, "\(id): \(k) missing")
            }
            // The last event's seq and time are the journal's.
            let last = events.last { $0.task == id }
            #expect(row["last_event_seq"] == (last.map { JSONValue($0.seq) } ?? .null), "\(id)")
            #expect(row["last_event_ts"] == JSONValue(last?.ts), "\(id)")
        }
        let byID = Dictionary(uniqueKeysWithValues: list.map { ($0["task_id"]!.stringValue!, $0) })
        #expect(byID["T2"]?["last_event_seq"] == .null, "an untouched task has null, not 0")
        #expect(byID["T2"]?["dependencies"] == [["task_id": "T1", "status": "IN_PROGRESS"]] && byID["T2"]?["unmet_dependencies"] == ["T1"])
        #expect(byID["T5"]?["owner"] == "TESTER_BOT", "the archetype-authorised worker that started it")
        #expect(byID["T5"]?["open_blockers"]?.arrayValue?.first?["reason"] == "waiting")
        #expect(byID["T5"]?["open_blockers"]?.arrayValue?.first?["since_seq"] == 4)
        #expect(byID["T4"]?["attempts"] == 1 && byID["T4"]?["max_retries"] == 1 && byID["T4"]?["owner"] == "WORKER2")
        #expect(byID["T3"]?["owner"] == .null, "not started yet: nobody has claimed it")
    }
}
