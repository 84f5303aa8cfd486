import Testing
import LogbookCore

/// The snapshot (SPEC §5): derived, deterministic, and read back exactly.
@Suite("Snapshot")
struct SnapshotTests {
    /// A journal that touches every part of the snapshot: blocks, failures, retries, tests,
    /// overrides, achievements, waivers, an idempotency key, a reopen.
    func busyWorld() async throws -> Fixture.World {
        let w = try await Fixture.world()
        try await w.submit(.started, "T1", by: "DEV")
        try await w.submit(.progress, "T1", by: "DEV", ["percent": 30, "note": "half-way"], idempotencyKey: "k-1")
        try await w.submit(.testResult, "T1", by: "DEV", ["suite": "unit", "passed": 12, "failed": 2, "skipped": 1, "artifact": "ci/1"])
        try await w.submit(.failed, "T1", by: "DEV", ["reason": "two tests red", "details": "see ci/1"])
        try await w.submit(.retried, "T1", by: "DEV", ["reason": "fixed"])
        try await w.submit(.testResult, "T1", by: "DEV", ["suite": "unit", "passed": 14, "failed": 0])
        try await w.submit(.done, "T1", by: "DEV", ["summary": "parser", "outputs": ["Sources/Parser.swift"]])
        try await w.submit(.achievement, "T1", by: "QA", ["summary": "zero failures", "artifact": "ci/2"])
        try await w.submit(.lockOverride, "T3", by: "SUPERVISOR", ["reason": "start early", "rule": "dependencies_done"])
        try await w.submit(.started, "T2", by: "QA")
        try await w.submit(.blocked, "T2", by: "QA", ["reason": "needs a fixture"])
        try await w.submit(.blocked, "T4", by: "SUPERVISOR", ["reason": "on hold"])
        try await w.submit(.reopened, "T1", by: "SUPERVISOR", ["reason": "edge case"])
        try await w.submit(.progress, "T1", by: "DEV", ["percent": 90])
        return w
    }

    @Test("snapshot() reads back to the same state, and records no store position")
    func roundTrip() async throws {
        let w = try await busyWorld()
        let state = try await w.book.state()
        let snap = state.snapshot()
        let back = try StatusState(snapshot: snap, plan: w.spec)
        #expect(back == state)
        #expect(snap["journal"]?["cursor"] == nil && snap["journal"]?["seq"]?.intValue == state.seq)
        // Through the bytes on disk as well.
        let bytes = PrettyJSON.bytes(snap)
        let again = try StatusState(snapshot: try JSONParser.parse(bytes), plan: w.spec)
        #expect(again == state)
        #expect(PrettyJSON.bytes(again.snapshot()) == bytes)
    }

    @Test("the round trip holds at every seq of the journal")
    func roundTripEverySeq() async throws {
        let w = try await busyWorld()
        var state = StatusState(plan: w.spec)
        for line in try await w.lines() {
            try state.apply(try Event(line: line))
            let back = try StatusState(snapshot: try JSONParser.parse(PrettyJSON.bytes(state.snapshot())), plan: w.spec)
            #expect(back == state, "at seq \(state.seq)")
        }
    }

    @Test("a state read from a snapshot continues exactly like the original")
    func continueFromSnapshot() async throws {
        let w = try await busyWorld()
        try await w.book.writeSnapshot(sealedBy: Fixture.dev)
        try await w.submit(.progress, "T1", by: "DEV", ["percent": 95])
        // Reopening starts from the stored (sealed, hence proved) snapshot and replays the tail.
        let reopened = try await StatusBook.open(store: w.store, ref: Fixture.ref, plan: w.spec)
        #expect(try await reopened.state() == (try await w.replayed()))
        let e = try await reopened.submit(EventRequest(type: .done, task: "T1", persona: "DEV"), signer: Fixture.dev)
        #expect(e.seq == 16)
        #expect(try await w.book.state() == (try await w.replayed()))
        // The idempotency key recorded before the snapshot still applies after it.
        let repeatOf = try await reopened.submit(EventRequest(type: .progress, task: "T1", persona: "DEV", data: ["percent": 30, "note": "half-way"],
                                                              idempotencyKey: "k-1"), signer: Fixture.dev)
        #expect(repeatOf.seq == 2)
    }

    @Test("rendering is deterministic: the same bytes however the state was reached")
    func deterministic() async throws {
        let w = try await busyWorld()
        let (bytes, seq) = try await w.book.snapshotBytes()
        #expect(seq == 14)
        let end = try await w.store.read(Fixture.ref, from: 0, limit: Int.max).last!.end
        let replayed = try await w.replayed()
        #expect(PrettyJSON.bytes(replayed.snapshot()) == bytes)
        let reopened = try await StatusBook.open(store: w.store, ref: Fixture.ref, plan: w.spec)
        #expect(try await reopened.snapshotBytes().bytes == bytes)
        #expect(PrettyJSON.bytes(try JSONParser.parse(bytes)) == bytes)
        // The verifier rebuilds it bit for bit.
        try await w.book.writeSnapshot()
        let stored = try await w.store.loadSnapshot(Fixture.ref)
        #expect(stored == bytes)
        #expect(try await w.verify(snapshot: stored).ok)
    }

    @Test("the snapshot has the exec_status shape and names the journal head")
    func shape() async throws {
        let w = try await busyWorld()
        let state = try await w.book.state()
        let snap = state.snapshot()
        #expect(snap["os_file_header"]?["schema_definition_id_ref"] == "HybridAI_OS_ExecutionStatus_Payload_v1.0")
        #expect(snap["os_file_header"]?["entity_type"] == "EXECUTION_STATUS")
        #expect(snap["os_file_header"]?["file_id"] == "exec_status_100")
        #expect(snap["journal"]?["seq"] == 14)
        #expect(snap["journal"]?["head_hash"] == .string(state.head!.description))
        #expect(snap["payload"]?["plan_digest"] == .string(w.plan.digest.description))
        let summary = snap["payload"]?["overall_status_summary"]
        #expect(summary?["task_counts"] == ["PENDING": 1, "IN_PROGRESS": 1, "BLOCKED": 2, "FAILED": 0, "DONE": 0, "WAIVED": 0])
        #expect(summary?["tests_passed"] == 14)
        #expect(summary?["tests_failed"] == 0)
        #expect(summary?["retries_total"] == 1)
        #expect(summary?["active_blockers"]?.arrayValue?.compactMap { $0["task_id_ref"]?.stringValue } == ["T2", "T4"])
        // The ratified summary: one human-readable line per open blocker.
        #expect(summary?["active_blockers_summary"]?.arrayValue?.compactMap { $0.stringValue?.prefix(4) } == ["T2: ", "T4: "])
        #expect(snap["payload"]?["key_achievements_log"]?.arrayValue?.count == 1)
        let t1 = snap["payload"]?["tasks_status"]?.arrayValue?.first
        #expect(t1?["task_id_ref"] == "T1")
        #expect(t1?["status"] == "IN_PROGRESS")
        #expect(t1?["percent_complete"] == 90)
        #expect(t1?["last_updated_by_persona_id"] == "DEV")
        #expect(t1?["signature_hash"] == .string(state.task("T1")!.lastHash!.description))
        #expect(t1?["execution_log"]?["retry_attempts_log"]?.arrayValue?.count == 1)
        #expect(t1?["execution_log"]?["failure_history"]?.arrayValue?.count == 1)
        #expect(t1?["execution_log"]?["failure_details"] == t1?["execution_log"]?["failure_history"]?.arrayValue?.last)
        let t3 = snap["payload"]?["tasks_status"]?.arrayValue?[2]
        #expect(t3?["pending_overrides"] == ["dependencies_done"])
        #expect(t3?["execution_log"]?["lock_override_log"]?.arrayValue?.count == 1)
    }

    @Test("a snapshot for another plan or with a wrong task list is refused")
    func refusesForeign() async throws {
        let w = try await busyWorld()
        let snap = try await w.book.state().snapshot()
        let other = PlanSpec(id: "EP-OTHER", tasks: w.spec.tasks)
        #expect(throws: LogbookError.self) { try StatusState(snapshot: snap, plan: other) }
        let fewer = PlanSpec(id: Fixture.planID, tasks: Array(w.spec.tasks.prefix(2)))
        let e = #expect(throws: LogbookError.self) { try StatusState(snapshot: snap, plan: fewer) }
        #expect(e?.code == .corrupt)
    }

    // MARK: Completion

    struct Completion: Sendable, CustomTestStringConvertible {
        let name: String
        let statuses: [TaskStatus]
        let percents: [Int]
        let expected: Double
        var testDescription: String { name }
    }

    static let completions: [Completion] = [
        Completion(name: "nothing started", statuses: [.pending, .pending], percents: [0, 0], expected: 0),
        Completion(name: "DONE and WAIVED count 100", statuses: [.done, .waived, .inProgress, .pending], percents: [0, 0, 40, 0], expected: 60),
        Completion(name: "all done", statuses: [.done, .done, .waived], percents: [100, 0, 0], expected: 100),
        Completion(name: "one of three", statuses: [.done, .pending, .pending], percents: [100, 0, 0], expected: 33.33),
        Completion(name: "two of three", statuses: [.done, .waived, .failed], percents: [100, 0, 0], expected: 66.67),
        Completion(name: "blocked and failed keep their percent", statuses: [.blocked, .failed], percents: [25, 50], expected: 37.5),
        Completion(name: "two decimals", statuses: [.inProgress, .inProgress, .inProgress, .inProgress, .inProgress, .inProgress, .inProgress],
                   percents: [1, 0, 0, 0, 0, 0, 0], expected: 0.14),
    ]

    @Test("completion is the mean of task percents, DONE and WAIVED counting 100", arguments: completions)
    func completion(_ c: Completion) {
        let spec = PlanSpec(id: "EP-C", tasks: c.statuses.indices.map { TaskSpec(id: "T\($0)", title: "", assignedPersona: "DEV") })
        var state = StatusState(plan: spec)
        for i in c.statuses.indices {
            state.tasks[i].status = c.statuses[i]
            state.tasks[i].percent = c.percents[i]
        }
        #expect(state.completion == c.expected)
        #expect(state.snapshot()["payload"]?["overall_status_summary"]?["overall_completion_percentage"] == .number(c.expected))
    }

    @Test("completion through events: a waived task and a done task")
    func completionThroughEvents() async throws {
        let w = try await Fixture.world()  // four tasks
        #expect(try await w.book.state().completion == 0)
        try await w.submit(.started, "T1", by: "DEV")
        try await w.submit(.progress, "T1", by: "DEV", ["percent": 50])
        #expect(try await w.book.state().completion == 12.5)
        try await w.submit(.done, "T1", by: "DEV")
        try await w.submit(.waived, "T4", by: "SUPERVISOR", ["reason": "dropped"])
        try await w.submit(.started, "T2", by: "QA")
        try await w.submit(.progress, "T2", by: "QA", ["percent": 20])
        #expect(try await w.book.state().completion == 55)
        // A failed task keeps the percent it reported.
        try await w.submit(.failed, "T2", by: "QA", ["reason": "x"])
        #expect(try await w.book.state().completion == 55)
    }
}
