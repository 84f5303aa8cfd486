/// The criteria a supervisor's validation is judged against (SPEC §7), computed from the state.
///
/// The reducer recomputes the state-derived criteria when it folds a `validated` event, so a
/// verdict can never claim criteria the journal does not support.
public struct Criterion: Sendable, Equatable {
    public var name: String
    public var expected: String
    public var actual: String
    public var pass: Bool

    public var json: JSONValue {
        ["name": .string(name), "expected": .string(expected), "actual": .string(actual), "pass": .bool(pass)]
    }

    public init(name: String, expected: String, actual: String, pass: Bool) {
        self.name = name
        self.expected = expected
        self.actual = actual
        self.pass = pass
    }

    public init?(json: JSONValue) {
        guard let n = json["name"]?.stringValue, let e = json["expected"]?.stringValue,
              let a = json["actual"]?.stringValue, let p = json["pass"]?.boolValue else { return nil }
        self.init(name: n, expected: e, actual: a, pass: p)
    }
}

public enum ValidationCriteria {
    public static let verifyName = "journal_verifies"

    /// The criteria that follow from the state alone.
    public static func fromState(_ s: StatusState) -> [Criterion] {
        let incomplete = s.tasks.filter { !$0.status.isComplete }
        let failingTests = s.tasks.flatMap { t in
            t.tests.compactMap { suite, r -> String? in (r["failed"]?.intValue ?? 0) > 0 ? "\(t.id)/\(suite)" : nil }
        }
        let blocked = s.tasks.filter { $0.status == .blocked }
        // A retry beyond max_retries is allowed when a supervisor overrode max_retries for it
        // (the rules accept it only then): each such override allows one more retry.
        let overRetries = s.tasks.filter { t in t.attempts > allowedRetries(t, s) }
        let retriesUsed = s.tasks.reduce(0) { $0 + $1.attempts }
        let retriesAllowed = s.tasks.reduce(0) { $0 + allowedRetries($1, s) }
        let byOverride = s.tasks.reduce(0) { $0 + maxRetriesOverrides($1) }
        func list(_ xs: [String]) -> String { xs.prefix(8).joined(separator: ", ") + (xs.count > 8 ? ", …" : "") }
        return [
            Criterion(name: "tasks_complete", expected: "all \(s.tasks.count) tasks DONE or WAIVED",
                      actual: incomplete.isEmpty ? "all \(s.tasks.count) complete"
                          : "\(incomplete.count) not complete: " + list(incomplete.map { "\($0.id) \($0.status.rawValue)" }),
                      pass: incomplete.isEmpty),
            Criterion(name: "latest_tests_pass", expected: "no failures in the latest result of any suite",
                      actual: failingTests.isEmpty ? "no failing suite" : "\(failingTests.count) failing: " + list(failingTests),
                      pass: failingTests.isEmpty),
            Criterion(name: "no_open_blockers", expected: "0 blocked tasks",
                      actual: blocked.isEmpty ? "0 blocked" : "\(blocked.count) blocked: " + list(blocked.map(\.id)),
                      pass: blocked.isEmpty),
            Criterion(name: "retries_within_limits", expected: "each task within its max_retries",
                      actual: "\(retriesUsed) used of \(retriesAllowed) allowed" + (byOverride == 0 ? "" : " (\(byOverride) by supervisor override)")
                          + (overRetries.isEmpty ? "" : "; over: " + list(overRetries.map(\.id))),
                      pass: overRetries.isEmpty),
        ]
    }

    /// Retries a task may use: its max_retries plus one per supervisor override of max_retries.
    public static func allowedRetries(_ t: TaskState, _ s: StatusState) -> Int {
        (s.plan[task: t.id]?.maxRetries ?? 0) + maxRetriesOverrides(t)
    }

    /// Supervisor overrides of rule max_retries recorded for the task.
    static func maxRetriesOverrides(_ t: TaskState) -> Int {
        t.overrideLog.filter { $0["rule"]?.stringValue == "max_retries" }.count
    }

    public static func verify(ok: Bool, events: Int, failure: String?) -> Criterion {
        Criterion(name: verifyName, expected: "verify passes", actual: ok ? "ok, \(events) events" : "failed: \(failure ?? "?")", pass: ok)
    }
}
