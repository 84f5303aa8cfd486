/// The exact state of a plan's status: the fold of its journal (SPEC §5).
///
/// ``apply(_:)`` checks every rule of SPEC §4 before changing anything, so a refused event leaves
/// the state as it was. The same function serves writers (before appending) and `verify`
/// (replaying), so what one accepts the other accepts.
public struct StatusState: Sendable, Equatable {
    public struct PersonaEntry: Sendable, Equatable {
        public var role: PersonaRole
        public var archetype: String
        public var keyID: String?
    }

    public enum Lifecycle: String, Sendable {
        case active = "ACTIVE", validating = "VALIDATING", frozen = "FROZEN", archived = "ARCHIVED"
    }

    public let plan: PlanSpec
    public var planDigest: Digest256?
    public var gPlan: Int = 0
    /// Seq of the last folded event; -1 before the genesis.
    public var seq: Int = -1
    public var head: Digest256?
    /// The `prev` of the head event (the snapshot's `payload_hash_previous`).
    public var headPrev: Digest256?
    /// The `trace_id` of the head event, if it had one (the snapshot's `last_mutation_trace_id`).
    public var lastTraceID: String?
    public var lastTS: String?
    public var lastG: Int = 0
    public var tasks: [TaskState]
    public var personas: [String: PersonaEntry] = [:]
    public var allowUnsigned = false
    public var achievements: [JSONValue] = []
    /// idempotency key → [seq, fingerprint]
    public var idempotency: [String: IdempotencyEntry] = [:]
    public var eventCounts: [String: Int] = [:]
    public var unsignedCount = 0
    public var lifecycle: Lifecycle = .active
    public var verdict: String?
    /// Plan-level rules a supervisor overrode during validation.
    public var planOverrides: [String] = []
    /// Seq of the `frozen` event, once frozen.
    public var frozenSeq: Int?
    /// For a migrated plan: where it came from and its plan-level legacy statuses (snapshot `migrated_from`).
    public var migratedFrom: JSONObject = JSONObject()

    public struct IdempotencyEntry: Sendable, Equatable {
        public var seq: Int
        public var fingerprint: String
    }

    public init(plan: PlanSpec) {
        self.plan = plan
        self.tasks = plan.tasks.map { TaskState(id: $0.id) }
    }

    public func task(_ id: String) -> TaskState? { plan.taskIndex[id].map { tasks[$0] } }

    /// Completion: the mean of task percents, DONE and WAIVED counting 100, to two decimals.
    /// 100 only when every task is DONE or WAIVED: with one task open the mean is at most 99.99
    /// (rounding to two decimals would otherwise give 100 for one open task among thousands).
    public var completion: Double {
        guard !tasks.isEmpty else { return 0 }
        let sum = tasks.reduce(0) { $0 + $1.effectivePercent }
        let mean = (Double(sum) / Double(tasks.count) * 100).rounded() / 100
        return tasks.allSatisfy({ $0.status.isComplete }) ? mean : min(mean, 99.99)
    }

    public func count(_ status: TaskStatus) -> Int { tasks.filter { $0.status == status }.count }

    /// The fingerprint that idempotency keys compare: what was asked, not when or at which seq.
    public static func fingerprint(type: EventType, task: String?, persona: String, data: JSONObject) -> String {
        let v: JSONValue = .object(JSONObject([
            ("type", .string(type.rawValue)), ("task", JSONValue(task)), ("persona", .string(persona)), ("data", .object(data)),
        ]))
        return String(Digest256.canonical(v).hex.prefix(32))
    }

    /// Checks `e` against every rule and folds it in; on error nothing changes.
    public mutating func apply(_ e: Event) throws(LogbookError) {
        try check(e)
        fold(e)
    }
}
