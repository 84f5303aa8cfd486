import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue 9 §3 (DRAFT plans lose nothing) and §2 (a plan without tasks cannot be locked).
@Suite struct DraftPlanTests {
    func workspace(_ name: String) async throws -> CLIFixture {
        try await CLIFixture.make(name)
    }

    /// Many `plan add-task` processes at once: every acknowledged task is in the plan.
    @Test func concurrentAddTasksAllLand() async throws {
        let f = try await workspace("draft-race")
        try f.ok(["plan", "new", "EP-DRAFT", "--goal", "race"])
        let n = 16
        let procs = try (0..<n).map { i -> (Process, Pipe) in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: TestSupport.binary)
            p.arguments = ["plan", "add-task", "EP-DRAFT", "--task-id", "T\(i)", "--title", "task \(i)", "--assignee", "WORKER",
                           "--workspace", f.root]
            let err = Pipe()
            p.standardOutput = FileHandle.nullDevice
            p.standardError = err
            try p.run()
            return (p, err)
        }
        var acknowledged: [String] = []
        for (i, (p, err)) in procs.enumerated() {
            let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "add-task T\(i): \(e)")
            if p.terminationStatus == 0 { acknowledged.append("T\(i)") }
        }
        let plan = try await f.ws.engine.plan("EP-DRAFT")
        let ids = Set((plan.document.payload["tasks"]?.arrayValue ?? []).compactMap { $0["task_id"]?.stringValue })
        #expect(ids == Set(acknowledged), "lost: \(Set(acknowledged).subtracting(ids).sorted())")
        #expect(ids.count == n)
        // Each edit advanced the version once.
        #expect(plan.document.header["v_file_instance"]?.intValue == 1 + n)
    }

    @Test func anEditBasedOnAnOldVersionIsAConflict() async throws {
        let f = try await workspace("draft-version")
        try f.ok(["plan", "new", "EP-DRAFT"])
        try f.ok(["plan", "add-task", "EP-DRAFT", "--task-id", "A", "--title", "a", "--assignee", "WORKER", "--expect-version", "1"])
        let before = WorkspaceBytes(f.root)
        let r = try f.cli(["plan", "add-task", "EP-DRAFT", "--task-id", "B", "--title", "b", "--assignee", "WORKER", "--expect-version", "1"])
        expectOneLineError(r, code: 3, mentions: ["EP-DRAFT", "v_file_instance 2", "expected 1"], "a stale add-task")
        #expect(WorkspaceBytes(f.root).changes(to: before).isEmpty)
        // A duplicate task id is refused too.
        let d = try f.cli(["plan", "add-task", "EP-DRAFT", "--task-id", "A", "--title", "again", "--assignee", "WORKER"])
        expectOneLineError(d, code: 3, mentions: ["EP-DRAFT", "task A", "payload.tasks[0]"], "a duplicate task id")
        #expect(WorkspaceBytes(f.root).changes(to: before).isEmpty)
    }

    /// `plan new` / `plan import` of an id that exists: refused unless --replace, never over a locked plan.
    @Test(arguments: [
        // (command, replace, expected exit, mention)
        ("new", false, Int32(3), "exec_plan_"),
        ("import", false, Int32(3), "exec_plan_"),
        ("new", true, Int32(0), ""),
        ("import", true, Int32(0), ""),
    ])
    func anExistingDraftIsNotSilentlyReplaced(_ command: String, _ replace: Bool, _ exit: Int32, _ mention: String) async throws {
        let f = try await workspace("draft-replace-\(command)-\(replace)")
        try f.ok(["plan", "new", "EP-DRAFT", "--goal", "the first"])
        try f.ok(["plan", "add-task", "EP-DRAFT", "--task-id", "A", "--title", "kept unless replaced", "--assignee", "WORKER"])
        let before = WorkspaceBytes(f.root)
        let file = f.scratchFile("draft.json", planVariant(id: "EP-DRAFT"))
        var args = command == "new" ? ["plan", "new", "EP-DRAFT", "--goal", "the second"] : ["plan", "import", file]
        if replace { args.append("--replace") }
        let r = try f.cli(args)
        let plan = try await f.ws.engine.plan("EP-DRAFT")
        let tasks = (plan.document.payload["tasks"]?.arrayValue ?? []).compactMap { $0["task_id"]?.stringValue }
        if exit == 0 {
            #expect(r.status == 0, "\(r.stderr)")
            #expect(tasks == (command == "new" ? [] : ["T1", "T2", "T3", "T4", "T5"]))
            #expect(plan.document.header["v_file_instance"]?.intValue == 3)
        } else {
            expectOneLineError(r, code: exit, mentions: ["EP-DRAFT", mention, "--replace"], "\(command) over a DRAFT")
            #expect(WorkspaceBytes(f.root).changes(to: before).isEmpty)
            #expect(tasks == ["A"])
        }
    }

    @Test(arguments: [false, true])
    func aLockedPlanIsNeverReplaced(_ replace: Bool) async throws {
        let f = try await workspace("draft-locked-\(replace)")
        let before = WorkspaceBytes(f.root)
        let file = f.scratchFile("again.json", planVariant(id: "EP-TEST"))
        for args in [["plan", "import", file], ["plan", "new", "EP-TEST"]] {
            let r = try f.cli(args + (replace ? ["--replace"] : []))
            expectOneLineError(r, code: 3, mentions: ["EP-TEST", "locked"], "\(args) over a locked plan")
        }
        #expect(WorkspaceBytes(f.root).changes(to: before).isEmpty)
    }

    /// Live state in a plan to import: the path that carries it.
    static let liveState = [
        "payload.tasks[2].status", "payload.tasks[0].percent_complete", "payload.tasks[1].execution_log",
        "payload.tasks[3].latest_test_status", "payload.tasks[4].retry_attempts_log",
        "payload.tasks[0].execution_checklist[0].checked", "payload.status", "payload.overall_status", "payload.key_achievements_log",
    ]

    @Test(arguments: 0..<liveState.count)
    func importOfAPlanCarryingLiveStateIsRefused(_ k: Int) async throws {
        let path = Self.liveState[k]
        let f = try await workspace("draft-live-\(k)")
        let p = JSONPath(path)!
        var root = TestSupport.planJSON(id: "EP-LIVE").objectValue!
        var payload = root["payload"]!.objectValue!
        var tasks = payload["tasks"]!.arrayValue!.map { $0.objectValue! }
        let comps = p.components
        if case .key("tasks") = comps[1], case .index(let i) = comps[2] {
            if comps.count == 4, case .key(let field) = comps[3] {
                tasks[i][field] = field == "status" ? "DONE" : field == "percent_complete" ? 100 : ["seq": 1]
            } else if case .key(let field) = comps[5] {
                tasks[i]["execution_checklist"] = [.object(JSONObject([("item_id", "C1"), ("text", "check"), (field, true)]))]
            }
        } else if case .key(let field) = comps[1] {
            payload[field] = "IN_PROGRESS"
        }
        payload["tasks"] = .array(tasks.map { .object($0) })
        root["payload"] = .object(payload)
        let file = f.scratchFile("live.json", PrettyJSON.string(.object(root)))
        let before = WorkspaceBytes(f.root)
        let r = try f.cli(["plan", "import", file])
        expectOneLineError(r, code: 2, mentions: [path, "live state", "logbook migrate"], "import with \(path)")
        #expect(WorkspaceBytes(f.root).changes(to: before).isEmpty)
    }

    /// The ratified v5.4 plan-level fields stay importable.
    @Test func theRatifiedPlanStatusFieldsAreNotLiveState() async throws {
        let f = try await workspace("draft-ratified")
        var root = TestSupport.planJSON(id: "EP-RAT").objectValue!
        var payload = root["payload"]!.objectValue!
        payload["final_execution_status"] = ""
        payload["final_validation_status"] = ""
        root["payload"] = .object(payload)
        let r = try f.cli(["plan", "import", f.scratchFile("rat.json", PrettyJSON.string(.object(root)))])
        #expect(r.status == 0 && r.stdout.contains("EP-RAT"), "\(r.stderr)")
    }

    @Test func aPlanWithoutTasksCannotBeLocked() async throws {
        let f = try await workspace("draft-empty")
        try f.ok(["plan", "new", "EP-EMPTY"])
        let before = WorkspaceBytes(f.root)
        let r = try f.cli(["plan", "lock", "EP-EMPTY", "--persona", "SUPERVISOR"])
        expectOneLineError(r, code: 2, mentions: ["EP-EMPTY", "no tasks", "payload.tasks", "add-task"], "lock of an empty plan")
        #expect(WorkspaceBytes(f.root).changes(to: before).isEmpty)
        #expect(try await f.ws.engine.plan("EP-EMPTY").document.isLocked == false)
    }
}
