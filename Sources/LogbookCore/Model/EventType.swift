/// What an event records (SPEC §4).
public enum EventType: String, Sendable, CaseIterable {
    case created
    case migrated
    case started
    case progress
    case testResult = "test_result"
    case blocked
    case unblocked
    case failed
    case retried
    case done
    case achievement
    case lockOverride = "lock_override"
    case reopened
    case waived
    /// The owner of an IN_PROGRESS or BLOCKED task is alive: renews its lease, changes nothing else.
    case heartbeat
    /// A supervisor returns a task to PENDING (its owner gone or stuck): the claim and lease end,
    /// attempts are kept, another authorised persona may start it.
    case requeued
    case keyChanged = "key_changed"
    case validationStarted = "validation_started"
    case validated
    case frozen
    case archived

    /// Events that move or describe one task.
    public static let taskEvents: [EventType] = [
        .started, .progress, .testResult, .blocked, .unblocked, .failed, .retried, .done,
        .achievement, .lockOverride, .reopened, .waived, .heartbeat, .requeued,
    ]

    /// Events only the genesis (seq 0) may carry.
    public var isGenesis: Bool { self == .created || self == .migrated }

    /// Plan lifecycle events (SPEC §7).
    public var isLifecycle: Bool {
        self == .validationStarted || self == .validated || self == .frozen || self == .archived
    }
}
