import LogbookCore
import Testing

/// Fuzz: the values agents pass on the command line (task, persona, percent, notes, suites,
/// counts…) end up as an event's fields and data. Requests of every type against a live state
/// must be accepted or refused with a clear LogbookError naming the rule, never trap.
///
/// Each input is `{"type", "task", "persona", "data"}`, seeded with requests that are legal in
/// the live state, then mutated (a value anywhere replaced by an out-of-range number, a string
/// with `../`, a huge note, a wrong type…).
@Suite struct RulesFuzzTests {
    @Test func randomRequestsAreAcceptedOrRefusedNeverTrap() async throws {
        let (w, journal, _) = try await FuzzSeeds.world()
        var live = StatusState(plan: w.spec)
        for l in journal { try live.apply(try Event(line: l)) }
        let state = live
        func seed(_ type: EventType, _ task: String?, _ persona: String, _ data: JSONObject) -> [UInt8] {
            var o = JSONObject([("type", .string(type.rawValue)), ("persona", .string(persona)), ("data", .object(data))])
            if let task { o["task"] = .string(task) }
            return CanonicalJSON.bytes(.object(o))
        }
        // T1 was reopened (IN_PROGRESS), T4 is IN_PROGRESS, T2 PENDING, T3 WAIVED.
        let seeds = [
            seed(.progress, "T1", "DEV", ["percent": 55, "note": "ok"]),
            seed(.progress, "T4", "DEV", ["percent": 100]),
            seed(.testResult, "T4", "DEV", ["suite": "unit", "passed": 10, "failed": 0, "skipped": 2, "artifact": "ci/7"]),
            seed(.blocked, "T4", "DEV", ["reason": "waiting for review"]),
            seed(.failed, "T1", "DEV", ["reason": "broken", "details": "trace"]),
            seed(.done, "T4", "DEV", ["summary": "finished", "outputs": ["a", "b"]]),
            seed(.achievement, "T2", "QA", ["summary": "found it", "artifact": "link"]),
            seed(.lockOverride, "T2", "SUPERVISOR", ["rule": "dependencies_done", "reason": "urgent"]),
            seed(.waived, "T2", "SUPERVISOR", ["reason": "not needed"]),
            seed(.reopened, "T3", "SUPERVISOR", ["reason": "again"]),
            seed(.started, "T2", "QA", [:]),
        ]
        var f = Fuzzer("rules", seeds: seeds)
        f.maxLength = 3000
        let r = f.run { input in
            let v = try JSONParser.parse(input)
            guard let t = v["type"]?.stringValue, let type = EventType(rawValue: t), let persona = v["persona"]?.stringValue,
                  let data = v["data"]?.objectValue else { throw LogbookError(.badInput, "not a request") }
            let e = Event.make(seq: state.seq + 1, prev: state.head!, ts: "2025-01-01T00:00:01.000Z", g: 101, plan: w.spec.id,
                               task: v["task"]?.stringValue, persona: persona, type: type, data: data,
                               signer: ["SUPERVISOR", "DEV", "QA", "REVIEWER1"].contains(persona) ? Fixture.key(persona) : nil)
            var s = state
            try s.apply(e)
            _ = s.snapshot()
            return .accepted
        }
        #expect(r.accepted > Fuzzer.inputs / 200 && r.rejected > Fuzzer.inputs / 10)
    }
}
