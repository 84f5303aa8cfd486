import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Testing

/// `state.txt`, `exec_plan_<g>.txt` and `exec_status_<g>.txt` are the ratified HAIOS schemas
/// (/work/shared/haios/SCHEMAS.md, as JSON Schemas in Resources/haios/): every field with its
/// name, type and enum, as a real workspace run through the CLI writes them.
@Suite struct HAIOSSchemaTests {
    static let traceA = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let traceB = "0af7651916cd43dd8448eb211c80319c"

    func lb(_ root: String, _ args: String...) throws -> TestSupport.Run {
        try TestSupport.logbook(args + ["--workspace", root])
    }

    func json(_ path: String) throws -> JSONValue { try JSONParser.parse(TestSupport.bytes(path)) }

    func expectConforms(_ doc: JSONValue, _ schema: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let v = try JSONSchema.resource(schema).violations(doc)
        #expect(v.isEmpty, "\(what) does not conform to \(schema): \(v.joined(separator: "; "))", sourceLocation: sourceLocation)
    }

    /// Every lock flag of a plan document, with its path.
    static func lockFlags(_ plan: JSONValue) -> [(String, JSONValue?)] {
        let p = plan["payload"]
        var out: [(String, JSONValue?)] = PlanDocument.planLockFlags.map { ("payload.\($0)", p?[$0]) }
        out += PlanDocument.definitionLockFlags.map { ("payload.plan_definition.\($0)", p?["plan_definition"]?[$0]) }
        out += PlanDocument.originLockFlags.map { ("payload.origin_and_context.\($0)", p?["origin_and_context"]?[$0]) }
        for (i, t) in (p?["tasks"]?.arrayValue ?? []).enumerated() {
            out.append(("payload.tasks[\(i)]._locked_entry_definition", t["_locked_entry_definition"]))
        }
        return out
    }

    /// init, personas, a DRAFT plan, lock, and task events of every kind the snapshot shows
    /// (test result, achievement, failure + retry, block), then the snapshot deleted so the next
    /// writer rebuilds it from the whole journal.
    struct Run {
        let root: String
        var statePath: String { root + "/state.txt" }
        var planPath: String { root + "/exec_plan_1.txt" }
        var statusPath: String { root + "/exec_status_1.txt" }
        var journalPath: String { root + "/exec_status_1.journal" }
    }

    func cliRun(_ name: String, check: (String, Run) throws -> Void = { _, _ in }) throws -> Run {
        let root = TestSupport.tempDirectory(name)
        let run = Run(root: root)
        func ok(_ args: String..., sourceLocation: SourceLocation = #_sourceLocation) throws {
            let r = try TestSupport.logbook(args + ["--workspace", root])
            #expect(r.status == 0, "`logbook \(args.joined(separator: " "))`: \(r.stderr)", sourceLocation: sourceLocation)
        }
        try ok("init")
        try check("init", run)
        try ok("persona", "add", "SUP", "--supervisor")
        try ok("persona", "add", "DEV", "--archetype", "CODER")
        try ok("plan", "new", "EP-SCHEMA", "--goal", "Show the ratified shapes")
        try ok("plan", "add-task", "EP-SCHEMA", "--task-id", "T1", "--title", "Parser", "--assignee", "DEV", "--max-retries", "1")
        try ok("plan", "add-task", "EP-SCHEMA", "--task-id", "T2", "--title", "Docs", "--assignee", "DEV", "--depends-on", "T1")
        try ok("plan", "add-task", "EP-SCHEMA", "--task-id", "T3", "--title", "Bench", "--assignee", "DEV")
        try check("draft", run)
        try ok("plan", "lock", "EP-SCHEMA", "--persona", "SUP")
        try check("locked", run)
        try ok("task", "start", "T1", "--persona", "DEV")
        try ok("task", "test", "T1", "--suite", "unit", "--passed", "3", "--failed", "1", "--artifact", "unit.xml", "--persona", "DEV")
        try ok("task", "achieve", "T1", "--summary", "parser reads every fixture", "--artifact", "Parser.swift",
               "--trace-id", Self.traceA, "--persona", "DEV")
        try ok("task", "fail", "T1", "--reason", "flaky fixture", "--persona", "DEV")
        try ok("task", "retry", "T1", "--reason", "fixture pinned", "--persona", "DEV")
        try ok("task", "block", "T1", "--reason", "waiting for the API key", "--persona", "DEV")
        _ = unlink(run.statusPath)
        try ok("task", "start", "T3", "--persona", "DEV", "--idempotency-key", "dev-T3-start", "--trace-id", Self.traceB)
        return run
    }

    @Test("the three control files written by a CLI run conform to the ratified schemas, with the values the journal proves")
    func cliRunConforms() throws {
        let run = try cliRun("haios") { stage, run in
            let state = try json(run.statePath)
            try expectConforms(state, "state.schema.json", "state.txt after \(stage)")
            switch stage {
            case "init", "draft":
                #expect(state["payload"]?["st"] == "READY" && state["payload"]?["ph"] == "IDLE", "\(stage)")
                #expect(state["payload"]?["cp_id"] == .null && state["payload"]?["current_exec_status_id_ref"] == .null, "\(stage)")
            default:
                #expect(state["payload"]?["st"] == "BUSY" && state["payload"]?["ph"] == "CONSTRUCT")
                #expect(state["payload"]?["cp_id"] == "EP-SCHEMA")
                #expect(state["payload"]?["current_exec_status_id_ref"] == "exec_status_1")
            }
            #expect(state["payload"]?["g"] == state["os_file_header"]?["g_file_last_modified"], "\(stage): g mirrors the header")
            #expect(state["payload"]?["workspace_id"]?.stringValue?.hasPrefix("ws-") == true, "\(stage): the workspace_id extension stays")
            guard stage != "init" else { return }
            let plan = try json(run.planPath)
            try expectConforms(plan, "exec_plan.schema.json", "exec_plan_1.txt after \(stage)")
            let flags = Self.lockFlags(plan)
            #expect(flags.count == 2 + 3 + 4 + 3)
            for (path, v) in flags { #expect(v == .bool(stage == "locked"), "\(stage): \(path) is \(String(describing: v))") }
            for old in PlanDocument.legacyLockFlags {
                #expect(!CanonicalJSON.string(plan).contains("\"\(old)\""), "\(stage): the pre-ratified flag \(old) is written")
            }
            #expect(plan["payload"]?["tasks"]?[0]?["authorized_agent_archetypes"] == .array([]), "the archetypes extension stays")
        }

        // The snapshot the last writer rebuilt from the whole journal.
        let status = try json(run.statusPath)
        try expectConforms(status, "exec_status.schema.json", "exec_status_1.txt")
        try expectConforms(try json(run.statePath), "state.schema.json", "state.txt at the end")
        let lines = String(decoding: TestSupport.bytes(run.journalPath), as: UTF8.self).split(separator: "\n").map { try! Event(line: Array($0.utf8)) }
        let head = try #require(lines.last)
        let p = try #require(status["payload"])
        #expect(status["journal"]?["seq"]?.intValue == head.seq, "the snapshot reflects the whole journal")
        #expect(p["payload_hash_current"] == .string(head.hash.description))
        #expect(p["payload_hash_previous"] == .string(head.prev.description))
        #expect(p["last_mutation_trace_id"] == .string(Self.traceB))
        #expect(p["g_last_update"]?.intValue == head.g)
        #expect(p["overall_status_summary"]?["active_blockers_summary"] == ["T1: waiting for the API key (since seq 6)"])
        #expect(p["overall_status_summary"]?["execution_status"] == "IN_PROGRESS")
        #expect(p["overall_status_summary"]?["validation_status"] == "NOT_VALIDATED")
        let ach = try #require(p["key_achievements_log"]?.arrayValue?.first)
        #expect(ach["achievement_summary"] == "parser reads every fixture" && ach["linked_task_id"] == "T1")
        #expect(ach["linked_artifact_id"] == "Parser.swift" && ach["trace_id"] == .string(Self.traceA))
        #expect(ach["g_event"]?.intValue == lines[3].g)
        let t1 = try #require(p["tasks_status"]?[0]), t2 = try #require(p["tasks_status"]?[1]), t3 = try #require(p["tasks_status"]?[2])
        #expect(t1["status"] == "BLOCKED" && t1["signature_hash"] == .string(lines[6].hash.description))
        #expect(t1["execution_log"]?["failure_details"]?["reason"] == "flaky fixture")
        #expect(t1["execution_log"]?["retry_attempts_log"]?.arrayValue?.count == 1)
        #expect(t1["latest_test_status"]?["suite"] == "unit" && t1["latest_test_status"]?["status"] == "FAILED")
        #expect(t1["readiness_check"]?["status"] == "PASSED" && t1["readiness_check"]?["g_checked"]?.intValue == lines[1].g)
        #expect(t3["readiness_check"]?["idempotency_key"] == "dev-T3-start")
        // A task without events of its own: the genesis created its entry.
        #expect(t2["readiness_check"]?["status"] == "NOT_CHECKED" && t2["latest_test_status"] == .null)
        #expect(t2["signature_hash"] == .string(lines[0].hash.description) && t2["last_updated_by_persona_id"] == "SUP")
        #expect(t2["execution_log"]?["failure_details"] == .null)
        // The Logbook extensions are there beside the ratified fields.
        #expect(t1["test_results_by_suite"]?["unit"]?["failed"] == 1)
        #expect(t1["execution_log"]?["failure_history"]?.arrayValue?.count == 1)
        #expect(status["journal"]?["head_hash"] == .string(head.hash.description))
        // And the CLI still verifies the workspace with these files.
        let v = try lb(run.root, "verify")
        #expect(v.status == 0, "\(v.stdout)\(v.stderr)")
    }

    // MARK: The schemas refuse what the ratified shapes do not allow

    struct Mutation: CustomTestStringConvertible, Sendable {
        let file: String
        let name: String
        let path: [String]
        /// nil removes the member.
        let value: JSONValue?
        /// What the violation names.
        let mentions: String
        var testDescription: String { "\(file): \(name)" }
    }

    static let mutations: [Mutation] = [
        Mutation(file: "state", name: "st IDLE (the old value)", path: ["payload", "st"], value: "IDLE", mentions: "$.payload.st"),
        Mutation(file: "state", name: "ph outside the enum", path: ["payload", "ph"], value: "ACTIVE", mentions: "$.payload.ph"),
        Mutation(file: "state", name: "no cp_id", path: ["payload", "cp_id"], value: nil, mentions: "missing required cp_id"),
        Mutation(file: "state", name: "no vector_clock", path: ["payload", "vector_clock"], value: nil, mentions: "missing required vector_clock"),
        Mutation(file: "state", name: "partition_status unknown", path: ["payload", "partition_status"], value: "SPLIT", mentions: "$.payload.partition_status"),
        Mutation(file: "state", name: "active_issue_ids not a list", path: ["payload", "active_issue_ids"], value: "I-1", mentions: "$.payload.active_issue_ids"),
        Mutation(file: "state", name: "rt count not a number", path: ["payload", "rt"], value: ["T1": "two"], mentions: "$.payload.rt.T1"),
        Mutation(file: "state", name: "old entity_type", path: ["os_file_header", "entity_type"], value: "OSState", mentions: "$.os_file_header.entity_type"),
        Mutation(file: "state", name: "g not an integer", path: ["payload", "g"], value: 1.5, mentions: "$.payload.g"),
        Mutation(file: "plan", name: "old schema id", path: ["os_file_header", "schema_definition_id_ref"], value: "HybridAI_OS_ExecutionPlan_v5.4", mentions: "schema_definition_id_ref"),
        Mutation(file: "plan", name: "no _tasks_list_immutable", path: ["payload", "_tasks_list_immutable"], value: nil, mentions: "missing required _tasks_list_immutable"),
        Mutation(file: "plan", name: "_goal_locked a string", path: ["payload", "plan_definition", "_goal_locked"], value: "true", mentions: "$.payload.plan_definition._goal_locked"),
        Mutation(file: "plan", name: "scope_summary a string", path: ["payload", "plan_definition", "scope_summary"], value: "one task", mentions: "scope_summary"),
        Mutation(file: "plan", name: "no origin flag", path: ["payload", "origin_and_context", "_preceding_execution_plan_id_ref_locked"], value: nil, mentions: "_preceding_execution_plan_id_ref_locked"),
        Mutation(file: "plan", name: "test_execution_metadata a list", path: ["payload", "test_execution_metadata"], value: [], mentions: "test_execution_metadata"),
        Mutation(file: "status", name: "no payload_hash_current", path: ["payload", "payload_hash_current"], value: nil, mentions: "missing required payload_hash_current"),
        Mutation(file: "status", name: "hash without sha256:", path: ["payload", "payload_hash_previous"], value: "abc", mentions: "payload_hash_previous"),
        Mutation(file: "status", name: "partition_status unknown", path: ["payload", "partition_status"], value: "OK", mentions: "$.payload.partition_status"),
        Mutation(file: "status", name: "blockers as objects", path: ["payload", "overall_status_summary", "active_blockers_summary"],
                 value: [["task_id_ref": "T1"]], mentions: "active_blockers_summary[0]"),
        Mutation(file: "status", name: "no _tasks_status_list_immutable", path: ["payload", "_tasks_status_list_immutable"], value: nil, mentions: "_tasks_status_list_immutable"),
        Mutation(file: "status", name: "old entity_type", path: ["os_file_header", "entity_type"], value: "ExecutionStatus", mentions: "entity_type"),
    ]

    /// The fixture's three files, as the library writes them (the same code as the CLI).
    static func fixtureFiles() async throws -> [String: JSONValue] {
        let (ws, file) = try await TestSupport.lockedWorkspace("haios-neg")
        let book = try await ws.engine.book(file)
        let signer = try await ws.engine.signingKey(for: "WORKER")
        _ = try await book.submit(EventRequest(type: .started, task: "T1", persona: "WORKER"), signer: signer)
        _ = try await book.submit(EventRequest(type: .achievement, task: "T1", persona: "WORKER", data: ["summary": "done"] as JSONObject), signer: signer)
        _ = try await book.submit(EventRequest(type: .testResult, task: "T1", persona: "WORKER", data: ["suite": "unit", "passed": 1, "failed": 0] as JSONObject), signer: signer)
        _ = try await book.submit(EventRequest(type: .failed, task: "T1", persona: "WORKER", data: ["reason": "broke"] as JSONObject), signer: signer)
        try await book.writeSnapshot()
        return [
            "state": try JSONParser.parse(TestSupport.bytes(ws.statePath)),
            "plan": try JSONParser.parse(TestSupport.bytes(file.path)),
            "status": try JSONParser.parse(TestSupport.bytes(ws.store.snapshotPath(file.journalRef))),
        ]
    }

    static func setting(_ v: JSONValue, _ path: ArraySlice<String>, _ new: JSONValue?) -> JSONValue {
        guard let k = path.first, var o = v.objectValue else { return v }
        if path.count == 1 { o[k] = new } else { o[k] = setting(o[k] ?? .object(JSONObject()), path.dropFirst(), new) }
        return .object(o)
    }

    @Test("a file missing a field, with a value outside an enum or of the wrong type fails the schema", arguments: mutations)
    func mutationsFail(_ m: Mutation) async throws {
        let files = try await Self.fixtureFiles()
        let schema = try JSONSchema.resource(m.file == "plan" ? "exec_plan.schema.json" : m.file == "state" ? "state.schema.json" : "exec_status.schema.json")
        let doc = try #require(files[m.file])
        #expect(schema.violations(doc).isEmpty, "the unmutated \(m.file) file conforms: \(schema.violations(doc))")
        let bad = Self.setting(doc, m.path[...], m.value)
        let v = schema.violations(bad)
        #expect(!v.isEmpty, "\(m.name) passed the schema")
        #expect(v.contains { $0.contains(m.mentions) }, "\(m.name): \(v)")
    }

    static let taskMutations: [(String, [String], JSONValue?)] = [
        ("readiness_check without g_checked", ["readiness_check", "g_checked"], nil),
        ("failure_details as a list (the old shape)", ["execution_log", "failure_details"], .array([])),
        ("latest_test_status per suite as a string", ["latest_test_status"], .string("unit: 1 passed")),
        ("signature_hash not a digest", ["signature_hash"], .string("T1")),
        ("percent over 100", ["percent_complete"], .number(140)),
    ]

    @Test("the fixture's task-level ratified fields fail the schema when removed or retyped", arguments: taskMutations)
    func taskStatusMutationsFail(_ name: String, _ path: [String], _ value: JSONValue?) async throws {
        let files = try await Self.fixtureFiles()
        let schema = try JSONSchema.resource("exec_status.schema.json")
        var doc = try #require(files["status"])
        var list = try #require(doc["payload"]?["tasks_status"]?.arrayValue)
        list[0] = Self.setting(list[0], path[...], value)
        doc = Self.setting(doc, ["payload", "tasks_status"], .array(list))
        let v = schema.violations(doc)
        #expect(v.contains { $0.contains("$.payload.tasks_status[0].\(path.joined(separator: "."))") || $0.contains("$.payload.tasks_status[0].\(path.dropLast().joined(separator: "."))") }, "\(name): \(v)")
    }

    @Test("an achievement in the old shape (summary, no g_event, no lock flag) fails the schema")
    func oldAchievementFails() async throws {
        let files = try await Self.fixtureFiles()
        let schema = try JSONSchema.resource("exec_status.schema.json")
        let old: JSONValue = [["seq": 2, "task_id_ref": "T1", "persona_id": "WORKER", "summary": "done", "artifact": nil, "ts": "x"]]
        let v = schema.violations(Self.setting(try #require(files["status"]), ["payload", "key_achievements_log"], old))
        for f in ["_locked_entry_definition", "g_event", "achievement_summary", "linked_task_id", "linked_artifact_id", "trace_id"] {
            #expect(v.contains("$.payload.key_achievements_log[0]: missing required \(f)"), "\(f): \(v)")
        }
    }

    @Test("the validator itself: unsupported keywords are refused, not ignored")
    func validatorRefusesUnknownKeywords() {
        let s = JSONSchema(root: ["type": "object", "propertyNames": ["pattern": "^a"]])
        #expect(s.violations(["b": 1]).contains { $0.contains("propertyNames") })
    }

    // MARK: Files of the previous version still open; the next write is ratified

    @Test("a state.txt written by the previous version opens, and the next write produces the ratified shape")
    func previousStateVersionIsRewritten() async throws {
        let (ws, file) = try await TestSupport.lockedWorkspace("haios-oldstate")
        let old: JSONValue = [
            "os_file_header": ["file_id": "state", "entity_type": "OSState", "schema_definition_id_ref": "HybridAI_OS_State_v1",
                               "g_file_created": 0, "g_file_last_modified": 3, "v_file_instance": 5],
            "payload": ["g": 3, "ph": "CONSTRUCT", "st": "ACTIVE", "current_exec_status_id_ref": .string(file.journalRef.statusID),
                        "workspace_id": "ws-0011223344556677", "rt": [:]],
        ]
        _ = FileManager.default.createFile(atPath: ws.statePath, contents: Data(PrettyJSON.bytes(old)))
        let s = try lb(ws.root, "status")
        #expect(s.status == 0, "\(s.stderr)")
        let r = try lb(ws.root, "plan", "new", "EP-NEXT")
        #expect(r.status == 0, "\(r.stderr)")
        let state = try json(ws.statePath)
        try expectConforms(state, "state.schema.json", "state.txt rewritten")
        #expect(state["payload"]?["st"] == "BUSY" && state["payload"]?["cp_id"] == "EP-TEST")
        #expect(state["payload"]?["workspace_id"] == "ws-0011223344556677" && state["payload"]?["g"] == 4)
        #expect(state["os_file_header"]?["v_file_instance"] == 6)
    }

    @Test("a snapshot written by the previous version: status replays the journal, verify passes with a warning, and still catches a cut journal")
    func previousSnapshotVersion() async throws {
        let f = try await CLIFixture.make("haios-oldsnap")
        #expect(try f.ok(["task", "start", "T1", "--persona", "WORKER"]).status == 0)
        let current = try json(f.snapshotPath)
        func old(seq: Int?) -> JSONValue {
            var v = Self.setting(current, ["os_file_header", "schema_definition_id_ref"], "HybridAI_OS_ExecutionStatus_v1.0")
            v = Self.setting(v, ["os_file_header", "entity_type"], "ExecutionStatus")
            if let seq { v = Self.setting(v, ["journal", "seq"], .number(Double(seq))) }
            return v
        }
        _ = FileManager.default.createFile(atPath: f.snapshotPath, contents: Data(PrettyJSON.bytes(old(seq: nil))))
        let v = try f.cli(["verify"])
        #expect(v.status == 0, "\(v.stdout)\(v.stderr)")
        #expect((v.stdout + v.stderr).contains("earlier Logbook version"), "\(v.stdout)\(v.stderr)")
        // A reader replays the journal and puts the current version back (it is a cache).
        let status = try f.cli(["status", "--json"])
        #expect(status.status == 0 && status.stdout.contains("IN_PROGRESS"), "\(status.stderr)")
        #expect(try json(f.snapshotPath)["os_file_header"]?["schema_definition_id_ref"]?.stringValue == StatusState.snapshotSchemaID)
        // Not compared, but its seq still proves how far the journal went.
        _ = FileManager.default.createFile(atPath: f.snapshotPath, contents: Data(PrettyJSON.bytes(old(seq: 40))))
        #expect(try f.cli(["verify"]).status == 6)
    }

    @Test("ratifiedPayload maps the previous version's values", arguments: [
        ("ACTIVE with a pointer", ["st": "ACTIVE", "current_exec_status_id_ref": "exec_status_3"] as JSONObject, "BUSY", "CONSTRUCT"),
        ("IDLE without one", ["st": "IDLE", "ph": "CONSTRUCT"] as JSONObject, "READY", "CONSTRUCT"),
        ("nothing", JSONObject(), "READY", "IDLE"),
        ("BLOCK_INPUT kept", ["st": "BLOCK_INPUT", "ph": "VALIDATE"] as JSONObject, "BLOCK_INPUT", "VALIDATE"),
    ])
    func ratifiedPayloadMapsOldValues(_ name: String, _ p: JSONObject, _ st: String, _ ph: String) throws {
        let out = WorkspaceState.ratifiedPayload(p)
        #expect(out["st"] == .string(st) && out["ph"] == .string(ph), "\(name)")
        let doc: JSONValue = ["os_file_header": ["file_id": "state", "entity_type": "STATE", "schema_definition_id_ref": "HybridAI_OS_State_Payload_v1.0",
                                                 "g_file_created": 0, "g_file_last_modified": 0, "v_file_instance": 1],
                              "payload": .object(out)]
        try expectConforms(doc, "state.schema.json", name)
    }

    // MARK: plan import and the ratified lock flags

    @Test("plan import accepts a plan carrying lock flags (ratified or earlier ones) and stores a DRAFT with every flag false",
          arguments: ["ratified-true", "ratified-false", "earlier"])
    func importWithLockFlags(_ kind: String) async throws {
        let f = try await CLIFixture.make("haios-import")
        var doc = PlanDocument(json: TestSupport.planJSON(id: "EP-FLAGS"))
        switch kind {
        case "ratified-true": doc = doc.ratified(locked: true)
        case "ratified-false": doc = doc.ratified(locked: false)
        default:
            var p = doc.json["payload"]!.objectValue!
            p["_locked_plan_definition"] = true
            p["_list_immutable_tasks"] = true
            doc = PlanDocument(json: Self.setting(doc.json, ["payload"], .object(p)))
        }
        let path = f.scratchFile("plan-\(kind).json", PrettyJSON.string(doc.json))
        let r = try f.cli(["plan", "import", path])
        #expect(r.status == 0, "\(kind): \(r.stderr)")
        let stored = try #require(try await f.ws.engine.listPlans().first { $0.id == "EP-FLAGS" })
        #expect(!stored.document.isLocked, "\(kind): imported as a DRAFT")
        try expectConforms(stored.document.json, "exec_plan.schema.json", "imported \(kind)")
        for (path, v) in Self.lockFlags(stored.document.json) { #expect(v == false, "\(kind): \(path)") }
        // And it locks: the flags turn true and the digest binds them.
        let lock = try f.cli(["plan", "lock", "EP-FLAGS", "--persona", "SUPERVISOR"])
        #expect(lock.status == 0, "\(lock.stderr)")
        let locked = try await f.ws.engine.plan("EP-FLAGS").document
        for (path, v) in Self.lockFlags(locked.json) { #expect(v == true, "\(kind): \(path) after lock") }
        #expect(try f.cli(["verify", "--plan", "EP-FLAGS"]).status == 0)
    }

    @Test("plan import refuses a ratified field of the wrong type, naming its path; nothing is written", arguments: [
        ("payload.plan_definition.goal", ["payload", "plan_definition", "goal"], JSONValue.number(7)),
        ("payload.origin_and_context", ["payload", "origin_and_context"], JSONValue.array([])),
        ("payload.test_execution_metadata", ["payload", "test_execution_metadata"], JSONValue.string("none")),
        ("payload.final_execution_status", ["payload", "final_execution_status"], JSONValue.bool(true)),
    ])
    func importRefusesWrongTypes(_ field: String, _ path: [String], _ value: JSONValue) async throws {
        let f = try await CLIFixture.make("haios-badtype")
        let before = WorkspaceBytes(f.root)
        let doc = Self.setting(TestSupport.planJSON(id: "EP-BAD"), path[...], value)
        let r = try f.cli(["plan", "import", f.scratchFile("bad.json", PrettyJSON.string(doc))])
        #expect(r.status != 0)
        #expect(r.stderr.contains(field), "\(r.stderr)")
        #expect(WorkspaceBytes(f.root).changes(to: before) == [])
    }
}

extension JSONValue {
    /// The element at `i` of an array (tests only).
    fileprivate subscript(_ i: Int) -> JSONValue? {
        guard let a = arrayValue, a.indices.contains(i) else { return nil }
        return a[i]
    }
}
