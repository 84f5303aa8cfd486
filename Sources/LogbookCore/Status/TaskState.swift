/// The live state of one task, as folded from its events.
public struct TaskState: Sendable, Equatable {
    public let id: String
    public var status: TaskStatus = .pending
    public var percent: Int = 0
    /// Retries used so far (`retried` events).
    public var attempts: Int = 0
    public var lastSeq: Int?
    public var lastHash: Digest256?
    public var gLastUpdate: Int?
    public var lastPersona: String?
    public var lastArchetype: String?
    /// While BLOCKED: the status it returns to, the reason and the seq that blocked it.
    public var blockedFrom: TaskStatus?
    public var blockReason: String?
    public var blockedSeq: Int?
    public var readiness: JSONValue = .null
    public var failureDetails: [JSONValue] = []
    public var retryLog: [JSONValue] = []
    public var overrideLog: [JSONValue] = []
    /// Rules a supervisor has overridden for this task's next step (consumed when used).
    public var pendingOverrides: [String] = []
    /// Latest result per test suite.
    public var tests: JSONObject = JSONObject()
    public var firstStartedTS: String?
    public var completedTS: String?
    /// For a migrated plan: the live state the legacy plan carried for this task (original status,
    /// percent, retries, checklist item states, …), as the `migrated` genesis recorded it.
    public var legacy: JSONObject = JSONObject()

    public init(id: String) { self.id = id }

    /// Percent that counts towards completion: DONE and WAIVED count 100; any other status at most
    /// 99, whatever was reported (a reopened task keeps its reported 100 in `percent`, and a
    /// `progress` of 100 is not DONE).
    public var effectivePercent: Int { status.isComplete ? 100 : min(percent, 99) }

    public var testsPassed: Int { tests.reduce(0) { $0 + ($1.value["passed"]?.intValue ?? 0) } }
    public var testsFailed: Int { tests.reduce(0) { $0 + ($1.value["failed"]?.intValue ?? 0) } }
}
