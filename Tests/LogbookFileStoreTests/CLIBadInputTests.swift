import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Testing

/// One bad input to the real `logbook` binary and what it must produce.
struct BadInput: Sendable, CustomTestStringConvertible {
    let name: String
    /// The exit code (ErrorReport: 2 bad input, 3 refused, 4 not found, 5 signature/key).
    let code: Int32
    /// Strings the one error line must contain (what and where).
    let mentions: [String]
    /// Runs before the workspace's bytes are captured.
    let setup: @Sendable (CLIFixture) throws -> Void
    /// The failing command (may write files into the scratch folder) and its extra environment.
    let command: @Sendable (CLIFixture) -> [String]
    var env: [String: String] = [:]

    var testDescription: String { name }

    /// A case whose setup is a list of commands that must succeed.
    init(_ name: String, _ code: Int32, _ mentions: [String], after steps: [[String]] = [], env: [String: String] = [:],
         _ args: [String]) {
        self.name = name
        self.code = code
        self.mentions = mentions
        self.setup = { f in for s in steps { try f.ok(s) } }
        self.command = { _ in args }
        self.env = env
    }

    init(_ name: String, _ code: Int32, _ mentions: [String], setup: @escaping @Sendable (CLIFixture) throws -> Void = { _ in },
         command: @escaping @Sendable (CLIFixture) -> [String]) {
        self.name = name
        self.code = code
        self.mentions = mentions
        self.setup = setup
        self.command = command
    }
}

extension BadInput {
    static let startT1: [String] = ["task", "start", "T1", "--persona", "WORKER"]
    static let long = String(repeating: "a", count: 200)
    static let badIDs: [(label: String, id: String)] = [
        ("../x", "../x"), ("empty", ""), ("200 chars", long), ("slash", "a/b"), ("control char", "a\u{7}b"), ("tab", "T\t1"),
    ]

    /// A plan file in the scratch folder; returns `plan import <file>`.
    static func importing(_ name: String, _ text: String) -> @Sendable (CLIFixture) -> [String] {
        { f in ["plan", "import", f.scratchFile(name, text)] }
    }

    static let planFiles: [BadInput] = [
        BadInput("malformed plan JSON: unquoted <current_g> placeholder", 2,
                 ["placeholder.json", "not valid JSON", "line 3, column 23", "<current_g>"],
                 command: importing("placeholder.json", """
                     {
                       "os_file_header": {
                         "g_file_created": <current_g>,
                         "v_file_instance": 1
                       },
                       "payload": {}
                     }

                     """)),
        BadInput("malformed plan JSON: truncated document", 2, ["cut.json", "not valid JSON", "line "],
                 command: importing("cut.json", String(planVariant(id: "EP-CUT").prefix(300)))),
        BadInput("plan with a dependency cycle", 2, ["plan EP-CYCLE", "payload.tasks[0].dependencies", "cycle", "T1"],
                 command: importing("cycle.json", planVariant(id: "EP-CYCLE") { $0[0].addDependency("T3") })),
        BadInput("plan with a task depending on itself", 2, ["plan EP-SELF", "payload.tasks[1].dependencies[1]", "T2"],
                 command: importing("self.json", planVariant(id: "EP-SELF") { $0[1].addDependency("T2") })),
        BadInput("plan with an unknown dependency", 2, ["plan EP-UNKNOWN", "payload.tasks[2].dependencies[0]", "unknown task T9"],
                 command: importing("unknown.json", planVariant(id: "EP-UNKNOWN") { $0[2]["dependencies"] = ["T9"] })),
        BadInput("plan with a duplicate task id", 2, ["plan EP-DUP", "payload.tasks[3].task_id", "duplicate task id T2"],
                 command: importing("dup.json", planVariant(id: "EP-DUP") { $0[3]["task_id"] = "T2" })),
        BadInput("plan assigning a persona not in personas.json", 2, ["plan EP-GHOST", "payload.tasks[1].assigned_agent_persona", "GHOST"],
                 command: importing("ghost.json", planVariant(id: "EP-GHOST") { $0[1]["assigned_agent_persona"] = "GHOST" })),
        BadInput("plan with max_retries -1", 2, ["plan EP-NEG", "payload.tasks[3].max_retries"],
                 command: importing("neg.json", planVariant(id: "EP-NEG") { $0[3]["max_retries"] = -1 })),
        BadInput("plan with an invalid task id", 2, ["plan EP-BADID", "payload.tasks[4].task_id", "../x"],
                 command: importing("badid.json", planVariant(id: "EP-BADID") { $0[4]["task_id"] = "../x" })),
        BadInput("missing plan file", 4, ["/nonexistent/plan.json"]) { _ in ["plan", "import", "/nonexistent/plan.json"] },
    ]

    static let lockedPlan: [BadInput] = [
        BadInput("plan import of the locked plan's id again", 3, ["plan EP-TEST", "locked"],
                 command: importing("again.json", planVariant(id: "EP-TEST") { $0[0]["title"] = "changed" })),
        // Lock flags are accepted on import (a DRAFT is stored with them false), but the id is locked here.
        BadInput("plan import of the locked plan file itself (lock flags)", 3, ["plan EP-TEST", "locked"]) { f in
            ["plan", "import", f.scratchFile("locked.json", String(decoding: TestSupport.bytes(f.plan.path), as: UTF8.self))]
        },
        BadInput("plan add-task on the locked plan", 3, ["plan EP-TEST", "locked"],
                 ["plan", "add-task", "EP-TEST", "--task-id", "T6", "--title", "x", "--assignee", "WORKER"]),
        BadInput("plan lock of the locked plan again", 3, ["plan EP-TEST", "already locked"],
                 ["plan", "lock", "EP-TEST", "--persona", "SUPERVISOR"]),
        BadInput("plan lock by a worker", 3, ["plan EP-2", "rule supervisor_only", "WORKER"],
                 after: [["plan", "new", "EP-2"], ["plan", "add-task", "EP-2", "--task-id", "A", "--title", "a", "--assignee", "WORKER"]],
                 ["plan", "lock", "EP-2", "--persona", "WORKER"]),
        BadInput("plan lock with another persona's key", 5, ["plan EP-2", "SUPERVISOR", "does not match"],
                 setup: { f in
                     try f.ok(["plan", "new", "EP-2"])
                     try f.ok(["plan", "add-task", "EP-2", "--task-id", "A", "--title", "a", "--assignee", "WORKER"])
                 },
                 command: { f in ["plan", "lock", "EP-2", "--persona", "SUPERVISOR", "--key-file", f.root + "/keys/WORKER.key"] }),
    ]

    static let rules: [BadInput] = [
        BadInput("unknown task (start)", 4, ["plan EP-TEST", "task T9", "unknown task"], ["task", "start", "T9", "--persona", "WORKER"]),
        BadInput("unknown task (retry)", 4, ["plan EP-TEST", "task T9", "unknown task"], ["task", "retry", "T9", "--reason", "r", "--persona", "WORKER"]),
        BadInput("unknown task (done)", 4, ["plan EP-TEST", "task T9", "unknown task"], ["task", "done", "T9", "--persona", "WORKER"]),
        BadInput("unknown task (show)", 4, ["plan EP-TEST", "task T9", "unknown task"], ["task", "show", "T9"]),
        BadInput("unknown plan", 4, ["plan NOPE"], ["task", "start", "T1", "--persona", "WORKER", "--plan", "NOPE"]),
        BadInput("unknown plan (status)", 4, ["plan NOPE"], ["status", "NOPE"]),
        BadInput("progress on a PENDING task", 3, ["plan EP-TEST", "task T1", "rule transition", "PENDING"],
                 ["task", "progress", "T1", "--percent", "10", "--persona", "WORKER"]),
        BadInput("done on a PENDING task", 3, ["plan EP-TEST", "task T1", "rule transition", "PENDING"],
                 ["task", "done", "T1", "--persona", "WORKER"]),
        BadInput("start of a task already IN_PROGRESS", 3, ["plan EP-TEST", "task T1", "rule transition", "IN_PROGRESS"],
                 after: [startT1], startT1),
        BadInput("wrong persona (WORKER2 on T1)", 3, ["plan EP-TEST", "task T1", "rule assignee", "WORKER2", "assigned to WORKER"],
                 ["task", "start", "T1", "--persona", "WORKER2"]),
        BadInput("worker writing a supervisor event", 3, ["plan EP-TEST", "task T1", "rule supervisor_only", "WORKER"],
                 ["task", "waive", "T1", "--reason", "r", "--persona", "WORKER"]),
        BadInput("persona not in personas.json", 4, ["unknown persona NOBODY", "personas.json"], ["task", "start", "T1", "--persona", "NOBODY"]),
        BadInput("started before its dependencies are DONE", 3, ["plan EP-TEST", "task T2", "rule dependencies_done", "T1"],
                 after: [startT1], ["task", "start", "T2", "--persona", "WORKER"]),
        BadInput("retry beyond max_retries", 3, ["plan EP-TEST", "task T4", "rule max_retries", "max_retries 1"],
                 after: [["task", "start", "T4", "--persona", "WORKER2"], ["task", "fail", "T4", "--reason", "x", "--persona", "WORKER2"],
                         ["task", "retry", "T4", "--reason", "y", "--persona", "WORKER2"], ["task", "fail", "T4", "--reason", "x", "--persona", "WORKER2"]],
                 ["task", "retry", "T4", "--reason", "z", "--persona", "WORKER2"]),
        BadInput("--expect-seq conflict", 3, ["plan EP-TEST", "task T1", "rule expected_seq", "seq 1", "expected 0"],
                 after: [startT1], ["task", "progress", "T1", "--percent", "5", "--persona", "WORKER", "--expect-seq", "0"]),
        BadInput("--expect-seq negative", 2, ["--expect-seq", "-1"],
                 after: [startT1], ["task", "progress", "T1", "--percent", "5", "--persona", "WORKER", "--expect-seq=-1"]),
        BadInput("idempotency key reused with other content", 3, ["plan EP-TEST", "task T1", "rule idempotency", "k1", "seq 2"],
                 after: [startT1, ["task", "progress", "T1", "--percent", "50", "--persona", "WORKER", "--idempotency-key", "k1"]],
                 ["task", "progress", "T1", "--percent", "60", "--persona", "WORKER", "--idempotency-key", "k1"]),
        BadInput("percent 101", 2, ["task T1", "rule percent_range", "101"],
                 after: [startT1], ["task", "progress", "T1", "--percent", "101", "--persona", "WORKER"]),
        BadInput("percent -1", 2, ["task T1", "rule percent_range", "-1"],
                 after: [startT1], ["task", "progress", "T1", "--percent=-1", "--persona", "WORKER"]),
        BadInput("negative test count", 2, ["task T1", "--failed"],
                 after: [startT1], ["task", "test", "T1", "--suite", "unit", "--passed", "1", "--failed=-2", "--persona", "WORKER"]),
        BadInput("oversize note (8 KiB + 1)", 2, ["task T1", "rule size_limit", "--note", "8193 bytes", "8192"],
                 after: [startT1], ["task", "progress", "T1", "--percent", "5", "--persona", "WORKER",
                                    "--note", String(repeating: "n", count: 8 * 1024 + 1)]),
        BadInput("oversize reason (multi-byte, 9 KiB)", 2, ["task T1", "rule size_limit", "--reason"],
                 after: [startT1], ["task", "block", "T1", "--persona", "WORKER", "--reason", String(repeating: "é", count: 4700)]),
        BadInput("oversize idempotency key", 2, ["task T1", "idempotency key"],
                 after: [startT1], ["task", "progress", "T1", "--percent", "5", "--persona", "WORKER",
                                    "--idempotency-key", String(repeating: "k", count: 300)]),
        // An invalid TRACEPARENT is ignored with a warning (CLIContractTests); --trace-id stays strict.
        BadInput("invalid --trace-id", 2, ["task T1", "trace id"], startT1 + ["--trace-id", "XYZ"]),
        BadInput("missing --persona", 2, ["--persona"], ["task", "start", "T1"]),
        BadInput("usage error: missing option value", 2, ["Missing value", "--percent"], after: [startT1],
                 ["task", "progress", "T1", "--persona", "WORKER", "--percent"]),
        BadInput("--note and --note-file together", 2, ["--note and --note-file"], after: [startT1],
                 ["task", "progress", "T1", "--percent", "1", "--note", "a", "--note-file", "/dev/null", "--persona", "WORKER"]),
        BadInput("empty LOGBOOK_PERSONA", 2, ["--persona"], env: ["LOGBOOK_PERSONA": ""], ["task", "start", "T1"]),
    ]

    static let keys: [BadInput] = [
        BadInput("missing private key file (--key-file)", 5, ["WORKER", "no private key"]) { f in
            startT1 + ["--key-file", f.scratch + "/missing.key"]
        },
        BadInput("missing private key file (keys/WORKER.key removed)", 5, ["WORKER", "keys/WORKER.key"],
                 setup: { f in try FileManager.default.removeItem(atPath: f.ws.keyPath("WORKER")) },
                 command: { _ in startT1 }),
        BadInput("key file with mode 0644", 5, ["readable by others", "644", "loose.key"]) { f in
            let key = String(decoding: TestSupport.bytes(f.ws.keyPath("WORKER")), as: UTF8.self)
            return startT1 + ["--key-file", f.scratchFile("loose.key", key, mode: 0o644)]
        },
        BadInput("key file holding another persona's key", 5, ["plan EP-TEST", "task T1", "rule signature", "WORKER"]) { f in
            let other = String(decoding: TestSupport.bytes(f.ws.keyPath("TESTER_BOT")), as: UTF8.self)
            return startT1 + ["--key-file", f.scratchFile("other.key", other, mode: 0o600)]
        },
        BadInput("key file that is not a key", 5, ["WORKER", "Ed25519", "garbage.key"]) { f in
            startT1 + ["--key-file", f.scratchFile("garbage.key", "not a key\n", mode: 0o600)]
        },
    ]

    static let ids: [BadInput] = badIDs.flatMap { label, id -> [BadInput] in
        [
            BadInput("invalid task id (\(label))", 2, ["invalid task id"], ["task", "start", id, "--persona", "WORKER"]),
            BadInput("invalid task id for progress (\(label))", 2, ["invalid task id"], ["task", "progress", id, "--percent", "1", "--persona", "WORKER"]),
            BadInput("invalid plan id (\(label))", 2, ["invalid plan id"], startT1 + ["--plan", id]),
            BadInput("invalid plan id for plan lock (\(label))", 2, ["invalid plan id"], ["plan", "lock", id, "--persona", "SUPERVISOR"]),
            BadInput("invalid persona id (\(label))", 2, ["invalid persona id"], ["task", "start", "T1", "--persona", id]),
            BadInput("invalid persona id for persona add (\(label))", 2, ["invalid persona id"], ["persona", "add", id]),
        ]
    }

    static let all: [BadInput] = planFiles + lockedPlan + rules + keys + ids
}

@Suite struct CLIBadInputTests {
    /// Every bad input: the specific exit code, one `logbook: error:` line naming what and where,
    /// nothing on stdout, and not one byte of the workspace changed.
    @Test(arguments: BadInput.all)
    func refusedWithOneLineAndNothingWritten(_ c: BadInput) async throws {
        let f = try await CLIFixture.make("bad")
        try c.setup(f)
        let before = WorkspaceBytes(f.root)
        #expect(before.files["exec_status_\(f.plan.g).journal"] != nil && before.files["state.txt"] != nil && before.files["personas.json"] != nil)
        let r = try f.cli(c.command(f), env: c.env)
        expectOneLineError(r, code: c.code, mentions: c.mentions, c.name)
        let after = WorkspaceBytes(f.root)
        #expect(before.changes(to: after).isEmpty, "\(c.name): files changed: \(before.changes(to: after))")
    }

    /// Every case above must really be run by the table (guards against an empty table).
    @Test func tableCoversTheBrief() {
        #expect(BadInput.all.count >= 60)
        #expect(Set(BadInput.all.map(\.name)).count == BadInput.all.count, "case names must be unique")
    }

    /// An idempotent repeat: exit 0, the same event printed, the journal unchanged.
    @Test(arguments: [false, true])
    func idempotentRepeatReturnsTheFirstEvent(json: Bool) async throws {
        let f = try await CLIFixture.make("idem")
        try f.ok(BadInput.startT1)
        let args = ["task", "progress", "T1", "--percent", "50", "--note", "half", "--persona", "WORKER", "--idempotency-key", "k1"]
            + (json ? ["--json"] : [])
        let first = try f.ok(args)
        let journal = TestSupport.bytes(f.journalPath)
        let before = WorkspaceBytes(f.root)
        let again = try f.ok(args)
        #expect(again.stdout == first.stdout)
        #expect(again.stderr.isEmpty)
        #expect(TestSupport.bytes(f.journalPath) == journal, "the journal grew on an idempotent repeat")
        #expect(f.journalLines().count == 3)
        #expect(before.changes(to: WorkspaceBytes(f.root)).isEmpty)
        if json {
            let e = try expectVerifiedEvent(again.stdout, key: try await f.ws.engine.personas()["WORKER"]?.publicKey)
            #expect(e.seq == 2 && e.idempotencyKey == "k1")
        }
    }

    /// A persona authorised by archetype (TESTER_BOT on T5) is accepted; WORKER is not.
    @Test func archetypeAuthorisation() async throws {
        let f = try await CLIFixture.make("arch")
        try f.ok(["task", "start", "T5", "--persona", "TESTER_BOT"])
        let before = WorkspaceBytes(f.root)
        let r = try f.cli(["task", "progress", "T5", "--percent", "5", "--persona", "WORKER"])
        expectOneLineError(r, code: 3, mentions: ["task T5", "rule assignee", "WORKER", "TESTER"], "WORKER on T5")
        #expect(before.changes(to: WorkspaceBytes(f.root)).isEmpty)
    }
}

/// One task verb's happy path.
struct HappyVerb: Sendable, CustomTestStringConvertible {
    let type: EventType
    let task: String
    let persona: String
    let before: [[String]]
    let args: [String]
    /// Text the one output line carries after `<type> <task> by <persona>`.
    let shows: String
    var testDescription: String { type.rawValue }

    static let startT1 = BadInput.startT1
    static let all: [HappyVerb] = [
        HappyVerb(type: .started, task: "T1", persona: "WORKER", before: [], args: startT1, shows: ""),
        HappyVerb(type: .progress, task: "T1", persona: "WORKER", before: [startT1],
                  args: ["task", "progress", "T1", "--percent", "40", "--note", "warming up", "--persona", "WORKER"], shows: ": 40 % — warming up"),
        HappyVerb(type: .testResult, task: "T1", persona: "WORKER", before: [startT1],
                  args: ["task", "test", "T1", "--suite", "unit", "--passed", "7", "--failed", "1", "--skipped", "2", "--artifact", "out/unit.xml", "--persona", "WORKER"],
                  shows: ": unit: 7 passed, 1 failed, 2 skipped"),
        HappyVerb(type: .blocked, task: "T1", persona: "WORKER", before: [startT1],
                  args: ["task", "block", "T1", "--reason", "waiting for review", "--persona", "WORKER"], shows: ": waiting for review"),
        HappyVerb(type: .unblocked, task: "T1", persona: "SUPERVISOR", before: [startT1, ["task", "block", "T1", "--reason", "r", "--persona", "WORKER"]],
                  args: ["task", "unblock", "T1", "--reason", "reviewed", "--persona", "SUPERVISOR"], shows: ": reviewed"),
        HappyVerb(type: .failed, task: "T4", persona: "WORKER2", before: [["task", "start", "T4", "--persona", "WORKER2"]],
                  args: ["task", "fail", "T4", "--reason", "segfault", "--persona", "WORKER2"], shows: ": segfault"),
        HappyVerb(type: .retried, task: "T4", persona: "WORKER2",
                  before: [["task", "start", "T4", "--persona", "WORKER2"], ["task", "fail", "T4", "--reason", "x", "--persona", "WORKER2"]],
                  args: ["task", "retry", "T4", "--reason", "flaky", "--persona", "WORKER2"], shows: ": attempt 1: flaky"),
        HappyVerb(type: .done, task: "T1", persona: "WORKER", before: [startT1],
                  args: ["task", "done", "T1", "--summary", "shipped", "--output", "a.txt", "--output", "b.txt", "--persona", "WORKER"], shows: ": shipped"),
        HappyVerb(type: .achievement, task: "T3", persona: "TESTER_BOT", before: [],
                  args: ["task", "achieve", "T3", "--summary", "found the bug", "--artifact", "bug.md", "--persona", "TESTER_BOT"], shows: ": found the bug"),
        HappyVerb(type: .lockOverride, task: "T2", persona: "SUPERVISOR", before: [],
                  args: ["task", "override", "T2", "--rule", "dependencies_done", "--reason", "T1 is irrelevant", "--persona", "SUPERVISOR"],
                  shows: ": dependencies_done: T1 is irrelevant"),
        HappyVerb(type: .reopened, task: "T1", persona: "SUPERVISOR", before: [startT1, ["task", "done", "T1", "--persona", "WORKER"]],
                  args: ["task", "reopen", "T1", "--reason", "regression", "--persona", "SUPERVISOR"], shows: ": regression"),
        HappyVerb(type: .waived, task: "T5", persona: "SUPERVISOR", before: [],
                  args: ["task", "waive", "T5", "--reason", "out of scope", "--persona", "SUPERVISOR"], shows: ": out of scope"),
    ]
}

@Suite struct CLIHappyPathTests {
    /// Text mode: exit 0, exactly one line `seq N <ts> <type> <task> by <persona>…`, nothing on stderr.
    @Test(arguments: HappyVerb.all)
    func verbPrintsOneLine(_ v: HappyVerb) async throws {
        let f = try await CLIFixture.make("happy")
        for s in v.before { try f.ok(s) }
        let r = try f.ok(v.args)
        let seq = v.before.count + 1
        #expect(r.stderr.isEmpty, "\(r.stderr)")
        #expect(r.stdout.hasSuffix("\n") && r.stdout.dropLast().split(separator: "\n").count == 1, "one line expected: \(r.stdout)")
        #expect(r.stdout.hasPrefix("seq \(seq) "), "\(r.stdout)")
        #expect(r.stdout.contains(" \(v.type.rawValue) \(v.task) by \(v.persona)\(v.shows) ["), "\(r.stdout)")
        #expect(f.journalLines().count == seq + 1)
    }

    /// `--json`: the accepted event, canonical, whose hash is its content's and whose signature
    /// verifies; it is byte for byte the journal's last line, and the journal still verifies.
    @Test(arguments: HappyVerb.all)
    func verbJSONPrintsTheVerifiedEvent(_ v: HappyVerb) async throws {
        let f = try await CLIFixture.make("happyjson")
        for s in v.before { try f.ok(s) }
        let r = try f.ok(v.args + ["--json"])
        #expect(r.stderr.isEmpty, "\(r.stderr)")
        let key = try await f.ws.engine.personas()[v.persona]?.publicKey
        let e = try expectVerifiedEvent(r.stdout, key: key)
        #expect(e.type == v.type && e.task == v.task && e.persona == v.persona && e.seq == v.before.count + 1)
        #expect(f.journalLines().last == String(r.stdout.dropLast()))
        let verify = try f.cli(["verify", "--json"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("\"head_hash\": \"\(e.hash)\""), "\(verify.stdout)")
    }
}
