/// Something a store found in its own data that readers and `verify` should know about, reported
/// by ``JournalStore/findings(_:)`` (instead of backend-specific side channels).
public struct StoreFinding: Sendable, Hashable, CustomStringConvertible {
    public struct Kind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// Bytes after the last complete line: a writer died mid-write (never acknowledged). The
        /// next writer, or `logbook recover`, cuts them off. ``StoreFinding/bytes`` says how many.
        public static let tornTail = Kind(rawValue: "torn_tail")
        /// A rotated segment or its manifest cannot be used as listed (missing, unreadable, an
        /// unfinished rotation). ``StoreFinding/message`` names the file.
        public static let segment = Kind(rawValue: "segment")
        /// Complete lines written but not yet known to be durable (a writer between its write and
        /// its sync, or one that died there; never acknowledged). Readers do not show them until
        /// a sync covers them: the next writer's, or `logbook recover`'s.
        public static let unsynced = Kind(rawValue: "unsynced")
    }

    public var kind: Kind
    /// How many bytes the finding covers (a torn tail's length), or 0.
    public var bytes: Int
    /// One sentence a person can act on, naming the file or position.
    public var message: String

    public init(_ kind: Kind, bytes: Int = 0, _ message: String) {
        self.kind = kind
        self.bytes = bytes
        self.message = message
    }

    public var description: String { "\(kind): \(message)" }
}
