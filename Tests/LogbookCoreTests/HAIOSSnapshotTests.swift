import Testing
import LogbookCore

/// The ratified exec_status v1.0 fields of the snapshot are filled from the journal, so the file
/// stays derivable bit for bit; the exec_plan v5.4 lock flags follow DRAFT → locked.
@Suite("HAIOS snapshot and plan fields")
struct HAIOSSnapshotTests {
    @Test("payload_hash_current/previous, last_mutation_trace_id and g_last_update name the head event at every seq")
    func hashChainFromTheJournal() async throws {
        let w = try await Fixture.world()
        let trace = "4bf92f3577b34da6a3ce929d0e0e4736"
        try await w.submit(.started, "T1", by: "DEV")
        _ = try await w.book.submit(EventRequest(type: .progress, task: "T1", persona: "DEV", data: ["percent": 10] as JSONObject,
                                                 traceID: trace), signer: Fixture.dev)
        try await w.submit(.progress, "T1", by: "DEV", ["percent": 20])
        var state = StatusState(plan: w.spec)
        for line in try await w.lines() {
            let e = try Event(line: line)
            try state.apply(e)
            let p = state.snapshot()["payload"]
            #expect(p?["payload_hash_current"] == .string(e.hash.description), "seq \(e.seq)")
            #expect(p?["payload_hash_previous"] == .string(e.prev.description), "seq \(e.seq)")
            #expect(p?["last_mutation_trace_id"] == JSONValue(e.traceID), "seq \(e.seq)")
            #expect(p?["g_last_update"]?.intValue == e.g, "seq \(e.seq)")
            #expect(p?["partition_status"] == "CONSISTENT")
            // And the snapshot reads back to the very same state, these fields included.
            #expect(try StatusState(snapshot: state.snapshot(), plan: w.spec) == state, "seq \(e.seq)")
        }
        // The genesis chains to the plan digest; the trace id of seq 2 is gone at seq 3.
        #expect(state.lastTraceID == nil)
        #expect(w.genesis.prev == w.plan.digest)
    }

    @Test("a snapshot of the previous version (old schema id) is not read: the reader replays the journal instead")
    func previousSnapshotVersionIsNotRead() async throws {
        let w = try await Fixture.world()
        try await w.submit(.started, "T1", by: "DEV")
        let state = try await w.book.state()
        guard case .object(var root) = state.snapshot(), case .object(var h)? = root["os_file_header"] else { Issue.record("no header"); return }
        h["schema_definition_id_ref"] = "HybridAI_OS_ExecutionStatus_v1.0"
        root["os_file_header"] = .object(h)
        let e = #expect(throws: LogbookError.self) { try StatusState(snapshot: .object(root), plan: w.spec) }
        #expect(e?.code == .corrupt && e?.message.contains("HybridAI_OS_ExecutionStatus_Payload_v1.0") == true)
    }

    @Test("readiness_check: NOT_CHECKED before a start, PASSED with its g and idempotency key, OVERRIDDEN under a supervisor's override")
    func readiness() async throws {
        let w = try await Fixture.world()
        var t3 = try await w.book.state().snapshot()["payload"]?["tasks_status"]?[2]
        #expect(t3?["readiness_check"] == ["status": "NOT_CHECKED", "g_checked": nil, "idempotency_key": nil, "readiness_assessment_id_ref": nil])
        let start = try await w.submit(.started, "T1", by: "DEV", idempotencyKey: "dev-T1-start")
        try await w.submit(.lockOverride, "T3", by: "SUPERVISOR", ["reason": "start early", "rule": "dependencies_done"])
        try await w.submit(.started, "T3", by: "DEV")
        let snap = try await w.book.state().snapshot()
        let t1 = snap["payload"]?["tasks_status"]?[0]
        #expect(t1?["readiness_check"]?["status"] == "PASSED")
        #expect(t1?["readiness_check"]?["g_checked"]?.intValue == start.g)
        #expect(t1?["readiness_check"]?["idempotency_key"] == "dev-T1-start")
        t3 = snap["payload"]?["tasks_status"]?[2]
        #expect(t3?["readiness_check"]?["status"] == "OVERRIDDEN")
        #expect(t3?["readiness_check"]?["dependencies"] == [["task_id": "T1", "status": "IN_PROGRESS"], ["task_id": "T2", "status": "PENDING"]])
    }

    @Test("latest_test_status is the most recent result; between equal seqs the greatest suite name, whatever the order")
    func latestTest() async throws {
        let w = try await Fixture.world()
        try await w.submit(.started, "T1", by: "DEV")
        try await w.submit(.testResult, "T1", by: "DEV", ["suite": "zeta", "passed": 1, "failed": 1])
        try await w.submit(.testResult, "T1", by: "DEV", ["suite": "alpha", "passed": 4, "failed": 0])
        let t1 = try await w.book.state().snapshot()["payload"]?["tasks_status"]?[0]
        #expect(t1?["latest_test_status"]?["suite"] == "alpha" && t1?["latest_test_status"]?["status"] == "PASSED")
        #expect(t1?["test_results_by_suite"]?.objectValue?.count == 2)
        // Two results at seq 0 (a migrated plan's): the choice does not depend on member order.
        for order in [["b", "a"], ["a", "b"]] {
            var s = StatusState(plan: w.spec)
            for suite in order { s.tasks[0].tests[suite] = ["passed": 1, "failed": 0, "skipped": 0, "artifact": nil, "seq": 0] }
            #expect(s.snapshot()["payload"]?["tasks_status"]?[0]?["latest_test_status"]?["suite"] == "b", "\(order)")
        }
    }

    @Test("execution_status and validation_status follow the tasks and the verdict", arguments: [
        (nil as String?, StatusState.Lifecycle.active, "NOT_VALIDATED"),
        (nil, .validating, "VALIDATING"),
        ("PASS", .validating, "VALIDATED_SUCCESS"),
        ("PASS_WITH_REMEDIATION", .frozen, "VALIDATED_WITH_REMEDIATION"),
        ("FAIL", .validating, "VALIDATED_FAILURE"),
    ])
    func summaryStatuses(_ verdict: String?, _ lifecycle: StatusState.Lifecycle, _ expected: String) async throws {
        let w = try await Fixture.world()
        var s = StatusState(plan: w.spec)
        s.verdict = verdict
        s.lifecycle = lifecycle
        #expect(s.validationStatus == expected)
        #expect(s.executionStatus == "PENDING")
        s.tasks[0].status = .inProgress
        #expect(s.executionStatus == "IN_PROGRESS")
        for i in s.tasks.indices { s.tasks[i].status = i == 0 ? .waived : .done }
        #expect(s.executionStatus == "DONE")
        #expect(s.snapshot()["payload"]?["overall_status_summary"]?["validation_status"] == .string(expected))
    }

    @Test("an achievement is written in the ratified shape and read back to the state's own")
    func achievementShape() async throws {
        let w = try await Fixture.world()
        let e = try await w.submit(.achievement, "T1", by: "QA", ["summary": "found the spec", "artifact": "spec.md"])
        try await w.submit(.achievement, nil, by: "REVIEWER1", ["summary": "plan-level note"])
        let state = try await w.book.state()
        let log = state.snapshot()["payload"]?["key_achievements_log"]?.arrayValue ?? []
        #expect(log.count == 2)
        #expect(log.first == ["_locked_entry_definition": true, "g_event": .number(Double(e.g)), "achievement_summary": "found the spec",
                              "linked_task_id": "T1", "linked_artifact_id": "spec.md", "trace_id": nil,
                              "seq": 1, "persona_id": "QA", "ts": .string(e.ts)])
        #expect(log.last?["linked_task_id"] == .null)
        #expect(try StatusState(snapshot: state.snapshot(), plan: w.spec).achievements == state.achievements)
    }

    @Test("migration of a ratified-shape HAIOS plan with live state: spec fields kept, ratified flags and live fields to the status, locked plan ratified")
    func migrationLinesUpWithV54() throws {
        let text = """
            {"payload": {"execution_plan_id": "EP-RAT", "plan_type": "CONSTRUCT", "_plan_type_locked": true,
              "final_execution_status": "IN_PROGRESS", "final_validation_status": null,
              "origin_and_context": {"parent_initiative_plan_id_ref": "INIT-1", "_parent_initiative_plan_id_ref_locked": true},
              "plan_definition": {"goal": "g", "_goal_locked": true, "scope_summary": ["a"], "exclusions_summary": []},
              "test_execution_metadata": {"runner": "ci"}, "_tasks_list_immutable": true,
              "tasks": [{"_locked_entry_definition": true, "task_id": "A", "title": "t", "assigned_agent_persona": "DEV",
                         "context_loading_instructions": ["read SPEC.md"], "status": "IN_PROGRESS", "percent_complete": 40}]}}
            """
        let r = try LegacyMigration.migrate(bytes: Array(text.utf8), options: .init(sourceName: "rat.json", defaultPersona: "DEV"))
        let p = r.plan.payload
        #expect(p["origin_and_context"]?["parent_initiative_plan_id_ref"] == "INIT-1")
        #expect(p["test_execution_metadata"] == ["runner": "ci"])
        #expect(p["tasks"]?[0]?["context_loading_instructions"] == ["read SPEC.md"])
        for k in ["payload._tasks_list_immutable", "payload._plan_type_locked", "payload.final_execution_status",
                  "payload.plan_definition._goal_locked", "payload.tasks[0]._locked_entry_definition", "payload.tasks[0].status"] {
            #expect(r.legacyState[k] != nil, "\(k) moves to the status")
        }
        let locked = r.plan.locked()
        #expect(locked.payload["final_execution_status"] == .null)
        #expect(locked.payload["origin_and_context"]?["_parent_initiative_plan_id_ref_locked"] == true)
        #expect(locked.payload["origin_and_context"]?["preceding_execution_plan_id_ref"] == .null)
        #expect(locked.payload["tasks"]?[0]?["status"] == nil && locked.payload["tasks"]?[0]?["_locked_entry_definition"] == true)
        _ = try locked.spec(personas: Fixture.registry)
    }

    // MARK: The plan

    static let flagPaths: [[String]] = PlanDocument.planLockFlags.map { [$0] }
        + PlanDocument.definitionLockFlags.map { ["plan_definition", $0] }
        + PlanDocument.originLockFlags.map { ["origin_and_context", $0] }

    static func value(_ v: JSONValue?, _ path: [String]) -> JSONValue? {
        path.reduce(v) { $0?[$1] }
    }

    @Test("ratified(locked:) writes every v5.4 field, every flag as asked, and drops the earlier flags", arguments: [false, true])
    func planFlags(_ locked: Bool) throws {
        var raw = Fixture.planJSON(tasks: Fixture.standardTasks)
        guard case .object(var root) = raw, case .object(var p)? = root["payload"] else { Issue.record("fixture"); return }
        p["_locked_plan_definition"] = true
        p["_list_immutable_tasks"] = true
        root["payload"] = .object(p)
        raw = .object(root)
        let doc = PlanDocument(json: raw).ratified(locked: locked)
        #expect(doc.isLocked == locked)
        for path in Self.flagPaths { #expect(Self.value(doc.json["payload"], path) == .bool(locked), "\(path)") }
        for f in ["_locked_plan_definition", "_list_immutable_tasks"] { #expect(doc.payload[f] == nil) }
        for t in doc.payload["tasks"]?.arrayValue ?? [] {
            #expect(t["_locked_entry_definition"] == .bool(locked))
            #expect(t["_locked_task_definition"] == nil && t["_list_immutable_dependencies"] == nil)
            for f in PlanDocument.taskFields { #expect(t[f] != nil, "task field \(f)") }
            #expect(t["authorized_agent_archetypes"] != nil, "the Logbook extension stays")
        }
        for f in ["execution_plan_id", "plan_type", "final_execution_status", "final_validation_status", "origin_and_context",
                  "plan_definition", "test_execution_metadata", "tasks"] { #expect(doc.payload[f] != nil, "\(f)") }
        #expect(doc.header["entity_type"] == "EXECUTION_PLAN")
        #expect(doc.header["schema_definition_id_ref"] == "HybridAI_OS_ExecutionPlan_Payload_v5.4")
        // Idempotent: locking a locked plan changes nothing, so its digest is stable.
        #expect(doc.ratified(locked: locked) == doc)
    }

    static let stringListCases: [(JSONValue, JSONValue)] = [
        (.string(""), .array([])), (.string("one"), ["one"]), (.null, []), (["a", "b"], ["a", "b"]),
    ]

    @Test("a summary or notes given as a string become a list; an empty string an empty list", arguments: stringListCases)
    func stringLists(_ given: JSONValue, _ expected: JSONValue) throws {
        let plan: JSONValue = ["payload": ["execution_plan_id": "EP-L", "plan_definition": ["goal": "g", "scope_summary": given],
                                           "tasks": [["task_id": "T1", "assigned_agent_persona": "DEV", "notes": given]]]]
        let doc = try PlanDocument(json: plan).draft()
        #expect(doc.payload["plan_definition"]?["scope_summary"] == expected)
        #expect(doc.payload["plan_definition"]?["exclusions_summary"] == [])
        #expect(doc.payload["tasks"]?[0]?["notes"] == expected)
    }

    @Test("origin_and_context null or absent becomes the object with four null references")
    func originDefaults() throws {
        let cases: [JSONValue?] = [.some(.null), .none]
        for origin in cases {
            var payload: JSONObject = ["execution_plan_id": "EP-O", "tasks": [["task_id": "T1", "assigned_agent_persona": "DEV"]]]
            if let origin { payload["origin_and_context"] = origin }
            let doc = try PlanDocument(json: ["payload": .object(payload)]).draft()
            for f in PlanDocument.originFields {
                #expect(doc.payload["origin_and_context"]?[f] == .null, "\(f)")
                #expect(doc.payload["origin_and_context"]?["_\(f)_locked"] == false, "\(f)")
            }
        }
    }

    @Test("a plan locked with Logbook's earlier flags still counts as locked (its digest binds that form)")
    func earlierLockedPlanStillLocked() {
        let doc = PlanDocument(json: ["payload": ["execution_plan_id": "EP-OLD", "_locked_plan_definition": true, "tasks": []]])
        #expect(doc.isLocked)
        #expect(!PlanDocument(json: ["payload": ["execution_plan_id": "EP-D", "_tasks_list_immutable": false, "tasks": []]]).isLocked)
    }
}

extension JSONValue {
    /// The element at `i` of an array (tests only).
    fileprivate subscript(_ i: Int) -> JSONValue? {
        guard let a = arrayValue, a.indices.contains(i) else { return nil }
        return a[i]
    }
}
