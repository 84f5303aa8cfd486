import Foundation
import LogbookCore
import Testing

/// Legacy plan migration, pure part (SPEC §8): the split, the field guarantee, the status
/// mapping, strict parsing with line and column, and the reducer's `migrated` genesis.
@Suite("Migration (core)")
struct MigrationCoreTests {
    // MARK: - Documents

    static let flat = """
        {
          "plan_id": "OLD-7",
          "status": "IN_PROGRESS",
          "preceding_plan_id_ref": "OLD-6",
          "created_g": 41,
          "description": "Import partner data",
          "tasks": [
            {"task_id": "T1", "status": "COMPLETED", "description": "Read the CSV files\\nquoted fields too",
             "execution_type": "AUTOMATED", "inputs": ["a.csv"], "outputs": ["reader.py"],
             "execution_checklist": [{"item_id": "C1", "description": "header", "status": "DONE"},
                                     {"item_id": "C2", "description": "quotes", "status": "PENDING"}]},
            {"task_id": "T2", "status": "in progress", "description": "Validate rows", "assigned_persona": "QA",
             "execution_type": "MANUAL", "notes": "ask ops", "inputs": [], "outputs": [], "dependencies": ["T1"],
             "execution_checklist": ["free text item", {"description": "types", "checked": true}]},
            {"task_id": "T3", "status": "awaiting-review", "description": "Load", "inputs": [], "outputs": []}
          ]
        }
        """

    static let haios = """
        {
          "os_file_header": {"file_id": "exec_plan_125", "entity_type": "ExecutionPlan", "g_file_created": 125, "v_file_instance": 9},
          "payload": {
            "execution_plan_id": "EP-125",
            "plan_type": "CONSTRUCT",
            "plan_definition": {"goal": "Ship it", "scope_summary": "all", "exclusions_summary": "none", "success_criteria": ["green"]},
            "_locked_plan_definition": false,
            "final_execution_status": "FAILED",
            "final_validation_status": null,
            "tasks": [
              {"task_id": "A", "title": "Build", "description": "", "intent": "i", "assigned_agent_persona": "DEV",
               "authorized_agent_archetypes": [], "max_retries": 1, "inputs": [], "outputs": [], "execution_checklist": [],
               "dependencies": [], "criticality": "HIGH", "notes": "",
               "status": "DONE", "percent_complete": 100, "g_last_update": 130, "last_updated_by_persona_id": "DEV",
               "test_results": {"suite": "unit", "passed": 40, "failed": 0, "skipped": 2}},
              {"task_id": "B", "title": "Test", "assigned_agent_persona": "QA", "max_retries": 2, "dependencies": ["A"],
               "status": "FAILED", "percent_complete": "70%", "retry_count": 1,
               "retry_attempts_log": [{"attempt": 1, "reason": "flaky"}, {"attempt": 2, "reason": "still flaky"}],
               "failure_details": [{"g": 131, "error": "timeout"}],
               "test_results": [{"name": "integration", "passed": 3, "failed": 4}]},
              {"task_id": "C", "title": "Docs", "assigned_agent_persona": "DEV", "dependencies": ["B"],
               "status": "BLOCKED", "blocker_reason": "waiting for B", "percent_complete": 10, "_locked_task_definition": true},
              {"task_id": "D", "title": "Extra", "assigned_agent_persona": "DEV", "status": "Running", "percent_complete": 45,
               "estimated_effort": "2d"}
            ]
          }
        }
        """

    static func migrate(_ text: String, defaultPersona: String? = "DEV", counters: LegacyRetryCounters? = nil) throws -> LegacyMigration.Result {
        try LegacyMigration.migrate(bytes: Array(text.utf8), options: .init(sourceName: "legacy.json", defaultPersona: defaultPersona, retryCounters: counters))
    }

    // MARK: - The guarantee: nothing is lost

    /// Every leaf of `source` that is neither in `legacy_state` (at its path or an ancestor's)
    /// nor in the clean plan (at its path, or where `legacy_moves` says it moved) with the same value.
    static func lostLeaves(source: JSONValue, plan: JSONValue, genesisData: JSONObject) -> [String] {
        var legacy: [JSONPath: JSONValue] = [:]
        for (k, v) in genesisData["legacy_state"]?.objectValue ?? JSONObject() {
            guard let p = JSONPath(k) else { return ["legacy_state key \(k) is not a path"] }
            legacy[p] = v
        }
        var moves: [JSONPath: JSONPath] = [:]
        for (k, v) in genesisData["legacy_moves"]?.objectValue ?? JSONObject() {
            guard let from = JSONPath(k), let to = v.stringValue.flatMap(JSONPath.init) else { return ["legacy_moves entry \(k) is not a path pair"] }
            moves[from] = to
        }
        var lost: [String] = []
        for (p, v) in source.leaves() {
            if let a = p.selfAndAncestors.first(where: { legacy[$0] != nil }) {
                let rest = JSONPath(Array(p.components.dropFirst(a.components.count)))
                if legacy[a]!.value(at: rest) != v { lost.append("\(p): legacy_state[\(a)] holds another value") }
                continue
            }
            var target = p
            if let a = p.selfAndAncestors.first(where: { moves[$0] != nil }) {
                target = moves[a]!.appending(JSONPath(Array(p.components.dropFirst(a.components.count))))
            }
            if plan.value(at: target) != v { lost.append("\(p) = \(CanonicalJSON.string(v)): not at \(target) in the plan, not in legacy_state") }
        }
        return lost
    }

    @Test("no leaf of a flat or HAIOS plan is lost", arguments: [flat, haios])
    func nothingLost(_ text: String) throws {
        let r = try Self.migrate(text)
        let source = try JSONParser.parse(text)
        #expect(Self.lostLeaves(source: source, plan: r.plan.json, genesisData: r.genesisData) == [])
        // And the check itself bites: drop one legacy value and it is reported.
        var d = r.genesisData
        var legacy = d["legacy_state"]!.objectValue!
        let first = legacy.keys[0]
        legacy[first] = nil
        d["legacy_state"] = .object(legacy)
        let lost = Self.lostLeaves(source: source, plan: r.plan.json, genesisData: d)
        #expect(!lost.isEmpty && lost.allSatisfy { $0.hasPrefix(first) })
    }

    @Test("the clean plan carries only v5.4 definitional fields, and validates")
    func cleanPlanIsClean() throws {
        for text in [Self.flat, Self.haios] {
            let r = try Self.migrate(text)
            let payload = r.plan.payload
            #expect(Set(payload.keys) == ["execution_plan_id", "plan_type", "plan_definition", "tasks"])
            #expect(Set(payload["plan_definition"]!.objectValue!.keys) == ["goal", "scope_summary", "exclusions_summary"])
            for t in payload["tasks"]!.arrayValue! {
                #expect(t.objectValue!.keys == LegacyMigration.taskFields)
                for item in t["execution_checklist"]!.arrayValue! {
                    if let o = item.objectValue { #expect(Set(o.keys).isDisjoint(with: LegacyMigration.liveChecklistFields)) }
                }
            }
            #expect(!r.plan.isLocked)
            _ = try r.plan.locked().spec(personas: Fixture.registry)
        }
    }

    // MARK: - Flat shape

    @Test("flat shape: ids, goal, titles, personas, execution_type and checklist states")
    func flatMapping() throws {
        let r = try Self.migrate(Self.flat)
        #expect(r.shape == .flat)
        #expect(r.planID == "OLD-7")
        let p = r.plan.json
        #expect(p.value(at: JSONPath("payload.plan_definition.goal")!) == "Import partner data")
        #expect(p.value(at: JSONPath("payload.plan_type")!) == "CONSTRUCT")
        #expect(p.value(at: JSONPath("payload.tasks[0].title")!) == "Read the CSV files")
        #expect(p.value(at: JSONPath("payload.tasks[0].description")!) == "Read the CSV files\nquoted fields too")
        #expect(p.value(at: JSONPath("payload.tasks[0].assigned_agent_persona")!) == "DEV")  // --default-persona
        #expect(p.value(at: JSONPath("payload.tasks[1].assigned_agent_persona")!) == "QA")   // from assigned_persona
        #expect(p.value(at: JSONPath("payload.tasks[0].notes")!) == "execution_type: AUTOMATED")
        #expect(p.value(at: JSONPath("payload.tasks[1].notes")!) == "ask ops\nexecution_type: MANUAL")
        #expect(p.value(at: JSONPath("payload.tasks[0].execution_checklist")!) ==
                [["item_id": "C1", "description": "header"], ["item_id": "C2", "description": "quotes"]])
        #expect(p.value(at: JSONPath("payload.tasks[1].execution_checklist")!) == ["free text item", ["description": "types"]])

        #expect(r.moves["plan_id"] == "payload.execution_plan_id")
        #expect(r.moves["description"] == "payload.plan_definition.goal")
        #expect(r.moves["tasks[1].assigned_persona"] == "payload.tasks[1].assigned_agent_persona")
        #expect(r.legacyState["status"] == "IN_PROGRESS")
        #expect(r.legacyState["preceding_plan_id_ref"] == "OLD-6")
        #expect(r.legacyState["created_g"] == 41)
        #expect(r.legacyState["tasks[0].status"] == "COMPLETED")
        #expect(r.legacyState["tasks[0].execution_type"] == "AUTOMATED")
        #expect(r.legacyState["tasks[1].notes"] == "ask ops")
        #expect(r.legacyState["tasks[0].execution_checklist[1].status"] == "PENDING")
        #expect(r.legacyState["tasks[1].execution_checklist[1].checked"] == true)

        #expect(r.taskStatus == ["T1": "DONE", "T2": "IN_PROGRESS", "T3": "PENDING"])
        #expect(r.legacyTasks["T1"]?["original_status"] == "COMPLETED")
        #expect(r.legacyTasks["T1"]?["execution_checklist"] == [["index": 0, "item_id": "C1", "status": "DONE"], ["index": 1, "item_id": "C2", "status": "PENDING"]])
        #expect(r.legacyTasks["T2"]?["execution_checklist"] == [["index": 1, "checked": true]])
        #expect(r.legacyPlanStatus == ["status": "IN_PROGRESS"])
        #expect(r.warnings.contains { $0.contains("awaiting-review") })
        #expect(r.completion == 33.33)
    }

    @Test("a flat task without a persona needs --default-persona")
    func missingPersona() throws {
        let e = #expect(throws: LogbookError.self) { try Self.migrate(Self.flat, defaultPersona: nil) }
        #expect(e?.code == .invalidPlan)
        #expect(e?.message.hasPrefix("legacy.json: ") == true)
        #expect(e?.message.contains("tasks[0]") == true && e?.message.contains("--default-persona") == true)
        #expect(e?.message.contains("tasks[2]") == true)
        #expect(e?.message.contains("tasks[1]") == false)  // T2 has assigned_persona
    }

    // MARK: - HAIOS v5.x shape

    @Test("HAIOS shape: live task fields, plan-level finals, header and lock flags move to the status")
    func haiosMapping() throws {
        let r = try Self.migrate(Self.haios)
        #expect(r.shape == .haios)
        #expect(r.moves.isEmpty)
        #expect(r.legacyState["os_file_header"]?["v_file_instance"] == 9)
        #expect(r.legacyState["payload.final_execution_status"] == "FAILED")
        #expect(r.legacyState["payload.final_validation_status"] == .null)
        #expect(r.legacyState["payload._locked_plan_definition"] == false)
        #expect(r.legacyState["payload.plan_definition.success_criteria"] == ["green"])
        #expect(r.legacyState["payload.tasks[1].retry_attempts_log"]?.arrayValue?.count == 2)
        #expect(r.legacyState["payload.tasks[2]._locked_task_definition"] == true)
        #expect(r.legacyState["payload.tasks[3].estimated_effort"] == "2d")
        #expect(r.legacyPlanStatus == ["final_execution_status": "FAILED", "final_validation_status": .null])

        #expect(r.taskStatus == ["A": "DONE", "B": "FAILED", "C": "BLOCKED", "D": "IN_PROGRESS"])
        let b = r.legacyTasks["B"]!
        #expect(b["percent_complete"] == 70)
        #expect(b["retries_used"] == 2)  // the largest count: 2 log entries > retry_count 1
        #expect(b["retries_from"] == ["payload.tasks[1].retry_count", "payload.tasks[1].retry_attempts_log"])
        #expect(b["tests"] == ["integration": ["passed": 3, "failed": 4, "skipped": 0]])
        #expect(r.legacyTasks["A"]?["tests"] == ["unit": ["passed": 40, "failed": 0, "skipped": 2]])
        #expect(r.legacyTasks["C"]?["blocker_reason"] == "waiting for B")
        #expect(r.completion == 56.25)  // (100 + 70 + 10 + 45) / 4
    }

    @Test("state.txt rt counters: task id → count, or plan id → {task id → count}")
    func retryCounters() throws {
        let state = #"{"os_file_header": {"v_file_instance": 3}, "payload": {"g": 7, "rt": {"B": 1, "D": 4, "EP-125": {"B": 5}}}}"#
        let rc = try LegacyRetryCounters(bytes: Array(state.utf8), name: "state.txt")
        #expect(rc.base.description == "payload.rt")
        let r = try Self.migrate(Self.haios, counters: rc)
        #expect(r.legacyTasks["B"]?["retries_used"] == 5)  // the plan-scoped counter wins over "B": 1
        #expect(r.legacyTasks["D"]?["retries_used"] == 4)
        #expect(r.legacyStateFile == ["payload.rt[\"EP-125\"].B": 5, "payload.rt.D": 4])
        #expect(r.genesisData["migration"]?["state_sha256"] == .string(Digest256.of(Array(state.utf8)).description))

        let e = #expect(throws: LogbookError.self) { try LegacyRetryCounters(bytes: Array(#"{"payload": {"g": 1}}"#.utf8), name: "state.txt") }
        #expect(e?.message.contains("rt") == true)
    }

    // MARK: - Broken sources

    @Test("not JSON: file, line, column and the token found", arguments: [
        ("{\n  \"plan_id\": \"X\",\n  \"created_g\": <current_g>,\n  \"tasks\": []\n}", 3, 16, "'<current_g>'"),
        ("{\"plan_id\": \"X\", \"tasks\": [\n  {\"task_id\": \"T1\"},\n]}", 3, 1, "character ']', expected a value"),
        ("{\"plan_id\": \"X\", \"tasks\": [\n  {\"task_id\": \"T1\", \"desc", 2, 26, "unterminated string"),
        ("{\"plan_id\": \"X\",\n \"plan_id\": \"Y\", \"tasks\": []}", 2, 2, "duplicate member name \"plan_id\""),
    ])
    func notJSON(_ text: String, _ line: Int, _ column: Int, _ found: String) {
        let e = #expect(throws: LogbookError.self) { try Self.migrate(text) }
        #expect(e?.code == .badInput)
        #expect(e?.message.hasPrefix("legacy.json: not valid JSON at line \(line), column \(column): ") == true, "\(e?.message ?? "")")
        #expect(e?.message.contains(found) == true, "\(e?.message ?? "")")
    }

    @Test("duplicate task ids and unknown shapes are refused with source paths")
    func invalidSources() {
        let dup = #"{"plan_id": "X", "tasks": [{"task_id": "T1"}, {"task_id": "T2"}, {"task_id": "T1"}]}"#
        let e = #expect(throws: LogbookError.self) { try Self.migrate(dup) }
        #expect(e?.code == .invalidPlan)
        #expect(e?.message.contains("tasks[2].task_id: duplicate task id T1 (first at tasks[0])") == true, "\(e?.message ?? "")")

        let shape = #expect(throws: LogbookError.self) { try Self.migrate(#"{"name": "not a plan"}"#) }
        #expect(shape?.message.contains("not a plan shape") == true)

        let cycle = #"{"plan_id": "X", "tasks": [{"task_id": "T1", "dependencies": ["T2"]}, {"task_id": "T2", "dependencies": ["T1"]}]}"#
        let c = #expect(throws: LogbookError.self) { try Self.migrate(cycle) }
        #expect(c?.message.contains("cycle") == true)
    }

    // MARK: - Status words

    @Test("legacy status words map explicitly; the rest is PENDING")
    func statusWords() {
        let cases: [(String, TaskStatus)] = [
            ("COMPLETED", .done), ("done", .done), ("Success", .done), ("SUCCEEDED", .done),
            ("IN_PROGRESS", .inProgress), ("in progress", .inProgress), ("in-progress", .inProgress), ("ACTIVE", .inProgress), ("running", .inProgress),
            ("FAILED", .failed), ("error", .failed), ("BLOCKED", .blocked), ("WAIVED", .waived), ("skipped", .waived),
            ("PENDING", .pending), ("NOT_STARTED", .pending), ("awaiting-review", .pending), ("", .pending),
        ]
        for (word, status) in cases { #expect(LegacyStatus.map(word) == status, "\(word)") }
        #expect(LegacyStatus.map(JSONValue.null) == .pending)
        #expect(LegacyStatus.map(JSONValue.number(3)) == .pending)
    }

    @Test("JSON paths print and parse back, odd member names quoted")
    func paths() throws {
        for text in ["payload.tasks[3].dependencies[0]", "a", "[\"x.y\"].b[0]", "tasks[0][\"odd key\"][\"q\\\"\"]", "$"] {
            let p = try #require(JSONPath(text), "\(text)")
            #expect(p.description == text)
        }
        let p = JSONPath.root.appending("x.y").appending(2).appending("ok")
        #expect(JSONPath(p.description) == p)
        for bad in ["", "a..b", "a[", "a[x]", "1a", "a.[0]"] { #expect(JSONPath(bad) == nil, "\(bad)") }
        let v: JSONValue = ["a": [1, ["b": "c"]], "e": [:]]
        #expect(v.value(at: JSONPath("a[1].b")!) == "c")
        #expect(v.leaves().map(\.path.description) == ["a[0]", "a[1].b", "e"])
    }

    @Test("titles are the description's first line, cut at a word")
    func titles() {
        #expect(LegacyMigration.title(from: "  Short one  \nmore") == "Short one")
        let long = String(repeating: "word ", count: 30)
        let t = LegacyMigration.title(from: long)
        #expect(t.count <= 80 && t.hasSuffix("…") && !t.hasSuffix(" …"))
    }

    // MARK: - The migrated genesis and the reducer

    func migratedWorld(_ text: String = haios, counters: LegacyRetryCounters? = nil) async throws -> (LegacyMigration.Result, Fixture.World) {
        let r = try Self.migrate(text, counters: counters)
        let plan = r.plan.locked()
        let spec = try plan.spec(personas: Fixture.registry)
        let genesis = try Genesis.make(plan: plan, spec: spec, gPlan: Fixture.gPlan, g: Fixture.gPlan + 1, registry: Fixture.registry,
                                       locker: "SUPERVISOR", signer: Fixture.supervisor, ts: Fixture.genesisTS, type: .migrated, extra: r.genesisData)
        let store = MemoryJournalStore()
        let ref = JournalRef(planID: spec.id, g: Fixture.gPlan)
        try await store.createJournal(ref, genesis: genesis.line)
        let book = try await StatusBook.open(store: store, ref: ref, plan: spec, options: .init(now: Fixture.fixedNow, currentG: { 102 }))
        return (r, Fixture.World(store: store, book: book, plan: plan, spec: spec, registry: Fixture.registry, genesis: genesis))
    }

    @Test("the migrated genesis starts the status from the legacy state")
    func genesisFold() async throws {
        let (r, w) = try await migratedWorld()
        #expect(w.genesis.type == .migrated)
        let s = try await w.book.state()
        #expect(s.tasks.map(\.status) == [.done, .failed, .blocked, .inProgress])
        #expect(s.tasks.map(\.effectivePercent) == [100, 70, 10, 45])
        #expect(s.completion == r.completion)
        #expect(s.task("B")?.attempts == 2)
        #expect(s.task("B")?.testsFailed == 4)
        #expect(s.task("A")?.testsPassed == 40)
        #expect(s.task("C")?.blockReason == "waiting for B")
        #expect(s.task("B")?.legacy["original_status"] == "FAILED")
        #expect(s.migratedFrom["final_execution_status"] == "FAILED")
        #expect(s.migratedFrom["source_sha256"] == .string(r.sourceDigest.description))

        let snap = s.snapshot()
        #expect(snap["payload"]?["migrated_from"]?["source_shape"] == "haios_v5")
        #expect(snap["payload"]?["tasks_status"]?.arrayValue?[1]["legacy"]?["retries_used"] == 2)
        #expect(snap["payload"]?["overall_status_summary"]?["task_counts"]?["DONE"] == 1)
        // Read back exactly.
        let back = try StatusState(snapshot: snap, plan: w.spec)
        #expect(back == s)
        #expect(PrettyJSON.bytes(back.snapshot()) == PrettyJSON.bytes(snap))
    }

    @Test("checklist item states survive into the snapshot")
    func checklistInSnapshot() async throws {
        let (_, w) = try await migratedWorld(Self.flat)
        let s = try await w.book.state()
        #expect(s.tasks.map(\.status) == [.done, .inProgress, .pending])
        let snap = s.snapshot()
        #expect(snap["payload"]?["tasks_status"]?.arrayValue?[0]["legacy"]?["execution_checklist"] ==
                [["index": 0, "item_id": "C1", "status": "DONE"], ["index": 1, "item_id": "C2", "status": "PENDING"]])
    }

    @Test("after migration the rules go on from the legacy state; verify passes")
    func rulesContinue() async throws {
        let (_, w) = try await migratedWorld()
        // A is DONE: it cannot be started again.
        let e1 = await logbookError { try await w.submit(.started, "A", by: "DEV") }
        #expect(e1?.rule == "transition")
        // B is FAILED with 2 of 2 retries used: a third is refused.
        let e2 = await logbookError { try await w.submit(.retried, "B", by: "QA", ["reason": "again", "attempt": 3]) }
        #expect(e2?.rule == "max_retries")
        // D is IN_PROGRESS at 45 %: it can report and finish.
        try await w.submit(.progress, "D", by: "DEV", ["percent": 80])
        try await w.submit(.done, "D", by: "DEV")
        // C is BLOCKED: unblocking returns it to PENDING.
        try await w.submit(.unblocked, "C", by: "SUPERVISOR", ["reason": "B waived soon"])
        #expect(try await w.book.state().task("C")?.status == .pending)
        try await w.book.writeSnapshot()
        let snap = try await w.store.loadSnapshot(w.book.ref)
        var v = Verifier(plan: w.plan, spec: w.spec, registry: w.registry, snapshot: snap)
        try await w.store.forEachLine(w.book.ref) { v.feed($0) }
        let report = v.finish()
        #expect(report.failure == nil, "\(String(describing: report.failure))")
        #expect(report.events == 4)
        #expect(v.replayedState == (try await w.book.state()))
    }

    static let badLegacy: [(String, JSONValue)] = [
        ("legacy_task_status", ["A": "COMPLETED"]),
        ("legacy_task_status", ["Z": "DONE"]),
        ("legacy_tasks", ["B": ["percent_complete": 150]]),
        ("legacy_tasks", ["B": ["retries_used": -1]]),
        ("migration", ["source_sha256": "nope"]),
    ]

    @Test("a migrated genesis with bad legacy data is refused (rule genesis)", arguments: badLegacy)
    func badLegacyGenesis(_ key: String, _ value: JSONValue) throws {
        let r = try Self.migrate(Self.haios)
        var extra = r.genesisData
        extra[key] = value
        let plan = r.plan.locked()
        let spec = try plan.spec(personas: Fixture.registry)
        let g = try Genesis.make(plan: plan, spec: spec, gPlan: 1, g: 2, registry: Fixture.registry, locker: "SUPERVISOR",
                                 signer: Fixture.supervisor, ts: Fixture.genesisTS, type: .migrated, extra: extra)
        var s = StatusState(plan: spec)
        let e = #expect(throws: LogbookError.self) { try s.apply(g) }
        #expect(e?.rule == "genesis")
    }

    @Test("the created path is unchanged: no migrated_from, no task legacy in its snapshot")
    func createdUnchanged() async throws {
        let w = try await Fixture.world()
        let snap = try await w.book.state().snapshot()
        #expect(snap["payload"]?["migrated_from"] == nil)
        #expect(snap["payload"]?["tasks_status"]?.arrayValue?.allSatisfy { $0["legacy"] == nil } == true)
    }
}
