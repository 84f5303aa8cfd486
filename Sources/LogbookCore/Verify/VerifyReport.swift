/// What `verify` found: counts, the head, warnings, and the first failure if any.
public struct VerifyReport: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        case unparseable = "unparseable"
        case edited = "edited"
        case deleted = "deleted"
        case reordered = "reordered"
        case duplicated = "duplicated"
        case inserted = "inserted"
        case chainBroken = "chain_broken"
        /// A statement's signed `seen` head is not this journal's event at that seq (or not
        /// before the statement): the history before it was changed.
        case seenMismatch = "seen_mismatch"
        case forgedSignature = "forged_signature"
        case missingSignature = "missing_signature"
        case unknownKey = "unknown_key"
        case illegalEvent = "illegal_event"
        case planEdited = "plan_edited"
        case planNotLocked = "plan_not_locked"
        case keySwapped = "key_swapped"
        case snapshotMismatch = "snapshot_mismatch"
        case truncated = "truncated"
        /// The journal's first `size` events differ from what a signed checkpoint fixed.
        case forked = "forked"
        case tornTail = "torn_tail"
        /// A rotated segment is missing, edited, or does not continue the one before.
        case segment = "segment"
        /// A frozen journal's head differs from the one its Validation Report records.
        case reportMismatch = "report_mismatch"
        case empty = "empty"
    }

    public struct Failure: Sendable, Equatable, CustomStringConvertible {
        public var seq: Int?
        public var kind: Kind
        public var message: String
        public init(seq: Int?, kind: Kind, message: String) {
            self.seq = seq
            self.kind = kind
            self.message = message
        }
        public var description: String {
            (seq.map { "seq \($0): " } ?? "") + "\(kind.rawValue): \(message)"
        }
    }

    public var plan: String
    public var events = 0
    public var unsigned = 0
    public var head: Digest256?
    public var lastSeq = -1
    public var failure: Failure?
    public var warnings: [String] = []
    /// The signed checkpoint the journal was also checked against, if any.
    public var checkpoint: Checkpoint?

    public var ok: Bool { failure == nil }

    public init(plan: String) { self.plan = plan }
}
