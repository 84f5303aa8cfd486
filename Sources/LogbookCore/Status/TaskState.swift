import Foundation

/// The live state of one task, as folded from its events.
public struct TaskState: Sendable, Equatable {
    public let id: String
    public var status: TaskStatus = .pending
    public var percent: Int = 0
    /// Retries used so far (`retried` events).
    public var attempts: Int = 0
    public var lastSeq: Int?
    /// The time (the store's `ts`) and type of the task's last event: how long it has been quiet.
    public var lastTS: String?
    public var lastType: EventType?
    /// The persona whose `started` claimed the task; other workers' task events are refused
    /// (rule `owner`) until a supervisor requeues it. Kept after DONE (who did it).
    public var owner: String?
    /// The owner's lease, when its `started` asked for one: it runs out `leaseSeconds` after the
    /// owner's last event on the task (``leaseRenewedTS``: any event of the owner renews it).
    public var leaseSeconds: Int?
    public var leaseRenewedTS: String?
    /// The seq of the `started` that claimed it.
    public var claimedSeq: Int?
    public var lastHash: Digest256?
    public var gLastUpdate: Int?
    public var lastPersona: String?
    public var lastArchetype: String?
    /// While BLOCKED: the status it returns to, the reason and the seq that blocked it.
    public var blockedFrom: TaskStatus?
    public var blockReason: String?
    public var blockedSeq: Int?
    public var blockedTS: String?
    public var blockedBy: String?
    /// Each `requeued`: seq, reason, the owner it released, who, when.
    public var requeueLog: [JSONValue] = []
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

    mutating func clearBlock() {
        blockedFrom = nil
        blockReason = nil
        blockedSeq = nil
        blockedTS = nil
        blockedBy = nil
    }

    /// When the lease runs out (nil without a lease, or once the task left IN_PROGRESS/BLOCKED).
    public var leaseExpiry: Date? {
        guard let s = leaseSeconds, status == .inProgress || status == .blocked,
              let renewed = leaseRenewedTS.flatMap(Timestamp.date) else { return nil }
        return renewed.addingTimeInterval(Double(s))
    }

    /// Derived at `now`, never stored: an IN_PROGRESS or BLOCKED task whose lease ran out.
    public func isStale(at now: Date) -> Bool {
        guard let expiry = leaseExpiry else { return false }
        return now >= expiry
    }

    /// Seconds since the task's last event, at `now` (nil before its first one).
    public func quietSeconds(at now: Date) -> Double? {
        lastTS.flatMap(Timestamp.date).map { max(0, now.timeIntervalSince($0)) }
    }

    /// Percent that counts towards completion: DONE and WAIVED count 100; any other status at most
    /// 99, whatever was reported (a reopened task keeps its reported 100 in `percent`, and a
    /// `progress` of 100 is not DONE).
    public var effectivePercent: Int { status.isComplete ? 100 : min(percent, 99) }

    public var testsPassed: Int { tests.reduce(0) { $0 + ($1.value["passed"]?.intValue ?? 0) } }
    public var testsFailed: Int { tests.reduce(0) { $0 + ($1.value["failed"]?.intValue ?? 0) } }
}
