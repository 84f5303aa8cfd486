import Foundation
import LogbookCore
import LogbookEngine
import Synchronization
import Testing

/// Issue 12's supervisor semantics on the engine (memory backend), with a clock the test moves:
/// claims, leases and heartbeats, the derived stale flag, requeue, blockers and `next`.
@Suite struct SupervisionTests {
    /// A clock the test sets; every event's `ts` comes from it.
    final class Clock: Sendable {
        let t = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        var now: Date { t.withLock { $0 } }
        func advance(_ s: Double) { t.withLock { $0 = $0.addingTimeInterval(s) } }
    }

    struct Fixture {
        let engine: LogbookEngine
        let file: PlanFile
        let clock: Clock
        let book: StatusBook

        /// SUP (supervisor); DEV, DEV2, DEV3 (archetype IMPLEMENTER), QA (archetype TESTER).
        /// T1 (DEV, IMPLEMENTERs may take it, HIGH), T2 (DEV, CRITICAL), T3 after T1 (DEV only,
        /// LOW), T4 after T3 (QA, MEDIUM), T5 after T1 (DEV, HIGH).
        static func make() async throws -> Fixture {
            let clock = Clock()
            let engine = LogbookEngine(storage: .memory(), options: .init(now: { clock.now }))
            try await engine.addPersona("SUP", role: .supervisor, archetype: "SUPERVISOR")
            for p in ["DEV", "DEV2", "DEV3"] { try await engine.addPersona(p, role: .worker, archetype: "IMPLEMENTER") }
            try await engine.addPersona("QA", role: .worker, archetype: "TESTER")
            func task(_ id: String, _ who: String, _ archetypes: [String], _ deps: [String], _ crit: String) -> JSONValue {
                ["task_id": .string(id), "title": .string("Task \(id)"), "assigned_agent_persona": .string(who),
                 "authorized_agent_archetypes": .array(archetypes.map { .string($0) }), "max_retries": 1,
                 "dependencies": .array(deps.map { .string($0) }), "inputs": [], "outputs": [], "execution_checklist": [],
                 "criticality": .string(crit), "notes": ""]
            }
            let plan: JSONValue = ["payload": ["execution_plan_id": "EP-SUP", "plan_type": "CONSTRUCT",
                                               "plan_definition": ["goal": "supervision", "scope_summary": "", "exclusions_summary": ""],
                                               "tasks": [task("T1", "DEV", ["IMPLEMENTER"], [], "HIGH"), task("T2", "DEV", [], [], "CRITICAL"),
                                                         task("T3", "DEV", [], ["T1"], "LOW"), task("T4", "QA", [], ["T3"], "MEDIUM"),
                                                         task("T5", "DEV", [], ["T1"], "HIGH")]]]
            _ = try await engine.importPlan(bytes: CanonicalJSON.bytes(plan), name: "plan.json")
            let (file, _) = try await engine.lockPlan("EP-SUP", persona: "SUP", signer: try await engine.signingKey(for: "SUP"))
            return Fixture(engine: engine, file: file, clock: clock, book: try await engine.book(file))
        }

        @discardableResult
        func submit(_ type: EventType, _ task: String?, _ persona: String, _ data: JSONObject = JSONObject()) async throws -> Event {
            try await book.submit(EventRequest(type: type, task: task, persona: persona, data: data), signer: try await engine.signingKey(for: persona))
        }

        func refusal(_ type: EventType, _ task: String, _ persona: String, _ data: JSONObject = JSONObject()) async throws -> LogbookError {
            let head = try await book.state().seq
            do {
                try await submit(type, task, persona, data)
            } catch let e as LogbookError {
                #expect(try await book.state().seq == head, "a refused \(type.rawValue) wrote nothing")
                return e
            }
            Issue.record("\(type.rawValue) on \(task) by \(persona) was accepted")
            return LogbookError(.io, "accepted")
        }

        func view() async throws -> SupervisorView { SupervisorView(state: try await book.state(), now: clock.now) }
    }

    @Test func theFirstStartClaimsTheTaskAndOthersAreRefusedUntilARequeue() async throws {
        let f = try await Fixture.make()
        try await f.submit(.started, "T1", "DEV2")
        #expect(try await f.book.state().task("T1")?.owner == "DEV2")
        for (type, data) in [(EventType.progress, ["percent": 10] as JSONObject), (.heartbeat, [:]), (.done, ["summary": "mine"]),
                             (.blocked, ["reason": "x"]), (.failed, ["reason": "x"])] {
            let e = try await f.refusal(type, "T1", "DEV", data)
            #expect(e.rule == "owner" && e.code == .forbidden && e.task == "T1", "\(type.rawValue): \(e.json)")
            #expect(e.message.contains("claimed by DEV2") && e.facts["owner"] == "DEV2")
        }
        // The owner works on; a supervisor may still act on the task; anyone may add an achievement.
        try await f.submit(.progress, "T1", "DEV2", ["percent": 40])
        try await f.submit(.blocked, "T1", "SUP", ["reason": "held by the supervisor"])
        try await f.submit(.unblocked, "T1", "SUP")
        try await f.submit(.achievement, "T1", "DEV", ["summary": "helped"])
        // Requeue: back to PENDING, claim and lease gone, attempts kept; another worker claims it.
        try await f.submit(.failed, "T1", "DEV2", ["reason": "flaky"])
        try await f.submit(.retried, "T1", "DEV2", ["reason": "again"])
        try await f.submit(.requeued, "T1", "SUP", ["reason": "DEV2 went quiet"])
        let t = try #require(try await f.book.state().task("T1"))
        #expect(t.status == .pending && t.owner == nil && t.attempts == 1 && t.percent == 0)
        #expect(t.requeueLog.first?["released_owner"] == "DEV2" && t.requeueLog.first?["from_status"] == "IN_PROGRESS")
        try await f.submit(.started, "T1", "DEV")
        #expect(try await f.book.state().task("T1")?.owner == "DEV")
        #expect(try await f.refusal(.progress, "T1", "DEV2", ["percent": 1]).rule == "owner")
        // Only a supervisor requeues; a requeue needs a reason and a task that is not PENDING or done.
        #expect(try await f.refusal(.requeued, "T1", "DEV", ["reason": "mine now"]).rule == "supervisor_only")
        #expect(try await f.refusal(.requeued, "T1", "SUP").code == .badInput)
        #expect(try await f.refusal(.requeued, "T2", "SUP", ["reason": "r"]).rule == "transition")
    }

    @Test func whenManyRaceToStartATaskExactlyOneWins() async throws {
        for round in 0..<5 {
            let f = try await Fixture.make()
            let racers = ["DEV", "DEV2", "DEV3"]
            let outcomes = try await withThrowingTaskGroup(of: (String, LogbookError?).self) { g in
                for p in racers {
                    g.addTask {
                        do { try await f.submit(.started, "T1", p); return (p, nil) } catch let e as LogbookError { return (p, e) }
                    }
                }
                var out: [(String, LogbookError?)] = []
                for try await o in g { out.append(o) }
                return out
            }
            let winners = outcomes.filter { $0.1 == nil }.map(\.0)
            #expect(winners.count == 1, "round \(round): winners \(winners)")
            for (p, e) in outcomes where e != nil { #expect(e?.rule == "owner", "round \(round): \(p) got \(e!.json)") }
            let state = try await f.book.state()
            #expect(state.task("T1")?.owner == winners.first && state.eventCounts["started"] == 1)
        }
    }

    @Test func aLeaseMakesAQuietOwnerStaleAndHeartbeatsKeepItFresh() async throws {
        let f = try await Fixture.make()
        try await f.submit(.started, "T1", "DEV", ["lease_seconds": 30])
        f.clock.advance(29)
        #expect(try await f.view().stale(olderThan: 3600).isEmpty, "within the lease")
        try await f.submit(.heartbeat, "T1", "DEV")
        // Heartbeats every 20 s for ten minutes: never stale, checked just before each one.
        for _ in 0..<30 {
            f.clock.advance(19.9)
            let v = try await f.view()
            #expect(!(v.state.task("T1")!.isStale(at: v.now)))
            f.clock.advance(0.1)
            try await f.submit(.heartbeat, "T1", "DEV")
        }
        // The owner dies after its last heartbeat: stale at lease + at most one interval, not before.
        f.clock.advance(29.999)
        #expect(try await f.view().staleCount == 0)
        f.clock.advance(0.001)
        let v = try await f.view()
        #expect(v.staleCount == 1 && v.stale(olderThan: 3600).map(\.id) == ["T1"])
        let row = try #require(v.task(v.state.plan.tasks[0]).objectValue)
        #expect(row["stale"] == true && row["owner"] == "DEV" && row["last_event_type"] == "heartbeat")
        #expect(v.staleDocument(olderThan: 3600)["tasks"]?.arrayValue?.first?["quiet_seconds"] == 30)
        #expect(row["lease"]?["seconds"] == 30 && row["lease"]?["expires_ts"]?.stringValue == Timestamp.string(v.now))
        // Any event of the owner renews it too; another persona's events never do.
        try await f.submit(.progress, "T1", "DEV", ["percent": 50])
        #expect(try await f.view().staleCount == 0)
        f.clock.advance(25)
        try await f.submit(.achievement, "T1", "QA", ["summary": "watching"])
        f.clock.advance(5)
        #expect(try await f.view().staleCount == 1, "QA's achievement did not renew DEV's lease")
        // Done: never stale again; a heartbeat on it is refused.
        try await f.submit(.done, "T1", "DEV")
        f.clock.advance(3600)
        #expect(try await f.view().staleCount == 0)
        #expect(try await f.refusal(.heartbeat, "T1", "DEV").rule == "transition")
    }

    @Test func withoutALeaseNothingIsStaleButQuietTasksAreListed() async throws {
        let f = try await Fixture.make()
        try await f.submit(.started, "T1", "DEV")
        try await f.submit(.started, "T2", "DEV")
        f.clock.advance(300)
        try await f.submit(.progress, "T2", "DEV", ["percent": 5])
        f.clock.advance(301)
        let v = try await f.view()
        #expect(v.staleCount == 0)
        #expect(v.stale(olderThan: 600).map(\.id) == ["T1"], "T1 is 601 s quiet, T2 301 s")
        #expect(v.stale(olderThan: 300).map(\.id) == ["T1", "T2"], "the quietest first")
        #expect(try await f.refusal(.started, "T3", "DEV", ["lease_seconds": 2]).rule == "lease")
        #expect(try await f.refusal(.heartbeat, "T2", "DEV", ["percent": 2]).code == .badInput)
    }

    @Test func blockedListsReasonWhoAndSince() async throws {
        let f = try await Fixture.make()
        try await f.submit(.started, "T2", "DEV")
        try await f.submit(.blocked, "T2", "DEV", ["reason": "waiting for the API key"])
        f.clock.advance(90)
        try await f.submit(.blocked, "T1", "SUP", ["reason": "held"])
        let v = try await f.view()
        #expect(v.blocked().map(\.id) == ["T2", "T1"], "the longest-standing first")
        let b = try #require(v.task(v.state.plan.tasks[1])["blocker"]?.objectValue)
        #expect(b["reason"] == "waiting for the API key" && b["persona_id"] == "DEV")
        #expect(v.blockedDocument["tasks"]?.arrayValue?.first?["blocked_seconds"] == 90)
        #expect(b["since_ts"]?.stringValue == Timestamp.string(f.clock.now.addingTimeInterval(-90)))
        try await f.submit(.unblocked, "T2", "DEV")
        #expect(try await f.view().blocked().map(\.id) == ["T1"])
    }

    @Test func nextGivesWhatAPersonaMayStartMostCriticalFirst() async throws {
        let f = try await Fixture.make()
        #expect(try await f.view().next(persona: "DEV").map(\.id) == ["T2", "T1"], "CRITICAL before HIGH; T3 and T5 wait for T1")
        #expect(try await f.view().next(persona: "DEV2").map(\.id) == ["T1"], "T1 by archetype; T2 is DEV's only")
        #expect(try await f.view().next(persona: "QA").isEmpty)
        try await f.submit(.started, "T1", "DEV2")
        #expect(try await f.view().next(persona: "DEV").map(\.id) == ["T2"], "T1 is claimed")
        try await f.submit(.done, "T1", "DEV2")
        // T5 (HIGH) before T3 (LOW); equal criticality would go to the one more tasks wait on.
        #expect(try await f.view().next(persona: "DEV").map(\.id) == ["T2", "T5", "T3"])
        let doc = try await f.view().nextDocument(persona: "DEV")
        #expect(doc["tasks"]?.arrayValue?.map { $0["waiting_on_it"] } == [0, 0, 1])
    }

    @Test func theStateWithClaimsLeasesAndBlockersRoundTripsThroughTheSnapshot() async throws {
        let f = try await Fixture.make()
        try await f.submit(.started, "T1", "DEV2", ["lease_seconds": 60])
        f.clock.advance(10)
        try await f.submit(.heartbeat, "T1", "DEV2", ["note": "alive"])
        try await f.submit(.started, "T2", "DEV")
        try await f.submit(.blocked, "T2", "DEV", ["reason": "r"])
        try await f.submit(.requeued, "T2", "SUP", ["reason": "stuck"])
        let state = try await f.book.state()
        // A snapshot of the earlier format (no journal.snapshot_format: before claims and leases)
        // is not read: it would restore tasks without their owners.
        guard case .object(var root) = state.snapshot(), case .object(var journal)? = root["journal"] else { throw LogbookError(.io, "no journal") }
        journal["snapshot_format"] = nil
        root["journal"] = .object(journal)
        #expect(throws: LogbookError.self) { try StatusState(snapshot: .object(root), plan: state.plan) }
        #expect(!StatusState.isCurrentSnapshot(.object(root)) && StatusState.isCurrentSnapshot(state.snapshot()))
        let restored = try StatusState(snapshot: state.snapshot(), plan: state.plan)
        #expect(restored.tasks == state.tasks)
        #expect(restored.tasks[0].owner == "DEV2" && restored.tasks[0].leaseSeconds == 60 && restored.tasks[1].requeueLog.count == 1)
    }
}
