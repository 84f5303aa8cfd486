import Foundation
import LogbookCore
import Testing

/// Issue 9 §2 in the core: completion after a reopen, retries allowed by an override, a verdict
/// made stale by a task event, and timestamps that never go backwards in seq order.
@Suite struct LifecycleRuleFixTests {
    // MARK: completion

    /// How the tasks end up; completion must be 100 only when every task is DONE or WAIVED.
    enum Ending: String, CaseIterable, CustomTestStringConvertible {
        case reopenedAfterDone, progress100NotDone, allDone, reopenedThenDoneAgain
        var testDescription: String { rawValue }
    }

    @Test(arguments: Ending.allCases)
    func completionIs100OnlyWhenEveryTaskIsDoneOrWaived(_ ending: Ending) async throws {
        let w = try await Fixture.world(tasks: [Fixture.task("T1", "DEV"), Fixture.task("T2", "DEV")])
        for t in ["T1", "T2"] {
            try await w.submit(.started, t, by: "DEV")
            try await w.submit(.done, t, by: "DEV")
        }
        switch ending {
        case .reopenedAfterDone:
            try await w.submit(.reopened, "T2", by: "SUPERVISOR", ["reason": "regression"])
        case .progress100NotDone:
            try await w.submit(.reopened, "T2", by: "SUPERVISOR", ["reason": "regression"])
            try await w.submit(.progress, "T2", by: "DEV", ["percent": 100])
        case .allDone:
            break
        case .reopenedThenDoneAgain:
            try await w.submit(.reopened, "T2", by: "SUPERVISOR", ["reason": "regression"])
            try await w.submit(.done, "T2", by: "DEV")
        }
        let s = try await w.book.state()
        let allComplete = s.tasks.allSatisfy { $0.status.isComplete }
        #expect(allComplete == (ending == .allDone || ending == .reopenedThenDoneAgain))
        if allComplete {
            #expect(s.completion == 100)
            #expect(s.task("T2")?.effectivePercent == 100)
        } else {
            #expect(s.completion < 100, "\(ending): completion \(s.completion) with T2 \(s.task("T2")!.status)")
            #expect(s.task("T2")!.effectivePercent < 100)
            // The snapshot (what HAIOS tools read) says the same.
            let snap = s.snapshot()
            let pct = snap["payload"]?["overall_status_summary"]?["overall_completion_percentage"]?.doubleValue ?? 100
            #expect(pct < 100)
        }
        // The replayed state agrees with the writer's.
        #expect(try await w.replayed() == s)
    }

    /// One open task among many must not round up to 100.
    @Test(arguments: [2, 1_000, 20_000])
    func oneOpenTaskAmongManyIsNot100(_ n: Int) throws {
        var tasks = (0..<n).map { i -> JSONValue in Fixture.task("T\(i)", "DEV") }
        tasks[0] = Fixture.task("T0", "DEV")
        let plan = PlanDocument(json: Fixture.planJSON(tasks: tasks)).locked()
        var s = StatusState(plan: try plan.spec(personas: Fixture.registry))
        for i in 1..<n { s.tasks[i].status = .done }
        s.tasks[0].status = .inProgress
        s.tasks[0].percent = 99
        #expect(s.completion < 100, "\(n) tasks, one at 99 %: \(s.completion)")
        s.tasks[0].status = .waived
        #expect(s.completion == 100)
    }

    // MARK: retries

    @Test func aSupervisorsMaxRetriesOverrideCountsAsAllowed() async throws {
        let w = try await Fixture.world(tasks: [Fixture.task("T1", "DEV", maxRetries: 1)])
        try await w.submit(.started, "T1", by: "DEV")
        try await w.submit(.failed, "T1", by: "DEV", ["reason": "flaky"])
        try await w.submit(.retried, "T1", by: "DEV", ["reason": "again"])
        try await w.submit(.failed, "T1", by: "DEV", ["reason": "flaky"])
        try await w.submit(.lockOverride, "T1", by: "SUPERVISOR", ["rule": "max_retries", "reason": "one more try"])
        try await w.submit(.retried, "T1", by: "DEV", ["reason": "with the override"])
        try await w.submit(.done, "T1", by: "DEV")
        let s = try await w.book.state()
        #expect(s.task("T1")?.attempts == 2)
        let c = try #require(ValidationCriteria.fromState(s).first { $0.name == "retries_within_limits" })
        #expect(c.pass, "\(c.actual)")
        #expect(c.actual.contains("2 used of 2 allowed") && c.actual.contains("1 by supervisor override"), "\(c.actual)")
        // A PASS verdict is accepted without an override reason: every criterion is met.
        try await w.submit(.validationStarted, nil, by: "SUPERVISOR")
        let criteria = ValidationCriteria.fromState(try await w.book.state()) + [ValidationCriteria.verify(ok: true, events: 9, failure: nil)]
        try await w.submit(.validated, nil, by: "SUPERVISOR", ["verdict": "PASS", "criteria": .array(criteria.map(\.json))])
        #expect(try await w.book.state().verdict == "PASS")
    }

    // MARK: a verdict goes stale

    /// Task events recorded after `validated`; each makes the verdict stale.
    static let staleners: [(String, EventType, String, JSONObject)] = [
        ("reopen", .reopened, "SUPERVISOR", ["reason": "found a bug"]),
        ("achievement on a task", .achievement, "DEV", ["summary": "late note"]),
        ("override", .lockOverride, "SUPERVISOR", ["rule": "max_retries", "reason": "just in case"]),
        ("waive", .waived, "SUPERVISOR", ["reason": "not needed after all"]),
    ]

    @Test(arguments: 0..<staleners.count)
    func aTaskEventAfterTheVerdictMakesFreezeWaitForANewValidate(_ k: Int) async throws {
        let (name, type, persona, data) = Self.staleners[k]
        let w = try await Fixture.world(tasks: [Fixture.task("T1", "DEV")])
        try await w.submit(.started, "T1", by: "DEV")
        try await w.submit(.done, "T1", by: "DEV")
        try await w.submit(.validationStarted, nil, by: "SUPERVISOR")
        func validate() async throws {
            let s = try await w.book.state()
            let criteria = ValidationCriteria.fromState(s) + [ValidationCriteria.verify(ok: true, events: s.seq + 1, failure: nil)]
            let verdict = criteria.allSatisfy(\.pass) ? "PASS" : "FAIL"
            try await w.submit(.validated, nil, by: "SUPERVISOR", ["verdict": .string(verdict), "criteria": .array(criteria.map(\.json))])
        }
        try await validate()
        #expect(try await w.book.state().verdict != nil)
        try await w.submit(type, "T1", by: persona, data)
        var s = try await w.book.state()
        #expect(s.verdict == nil, "\(name): the verdict should be stale")
        let err = await logbookError {
            try await w.submit(.frozen, nil, by: "SUPERVISOR", ["head": JSONValue(s.head?.description), "final_seq": JSONValue(s.seq)])
        }
        #expect(err?.code == .refused && err?.rule == "lifecycle" && err?.message.contains("stale") == true, "\(name): \(String(describing: err))")
        // validate again: freeze is accepted.
        try await validate()
        s = try await w.book.state()
        try await w.submit(.frozen, nil, by: "SUPERVISOR", ["head": JSONValue(s.head?.description), "final_seq": JSONValue(s.seq)])
        #expect(try await w.book.state().lifecycle == .frozen)
        // verify replays the same rules.
        #expect(try await w.verify().ok)
    }

    // MARK: timestamps

    @Test(arguments: [
        ("2026-01-01T00:00:05.000Z", "2026-01-01T00:00:03.000Z", "2026-01-01T00:00:05.000Z"),  // the clock stepped back
        ("2026-01-01T00:00:05.000Z", "2026-01-01T00:00:05.001Z", "2026-01-01T00:00:05.001Z"),  // forward
        ("2026-01-01T00:00:05.000Z", "2026-01-01T00:00:05.000Z", "2026-01-01T00:00:05.000Z"),  // the same millisecond
        ("not a timestamp", "2026-01-01T00:00:03.000Z", "2026-01-01T00:00:03.000Z"),           // an unreadable previous
    ])
    func aTimestampIsNeverBeforeThePreviousOne(_ previous: String, _ clock: String, _ expected: String) throws {
        let date = Date(timeIntervalSince1970: Double(try #require(Timestamp.parse(clock))) / 1000)
        #expect(Timestamp.string(date, notBefore: previous) == expected)
        #expect(Timestamp.string(date, notBefore: nil) == clock)
    }
}
