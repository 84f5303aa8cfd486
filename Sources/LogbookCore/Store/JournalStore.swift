/// Names one plan's status journal in a store: the plan id and the g the plan was created at.
public struct JournalRef: Sendable, Hashable, CustomStringConvertible {
    public var planID: String
    public var g: Int

    public init(planID: String, g: Int) {
        self.planID = planID
        self.g = g
    }

    /// `exec_status_<g>`, the status id that `state.txt` points at.
    public var statusID: String { "exec_status_\(g)" }
    public var description: String { "\(planID) (\(statusID))" }
}

/// One complete journal line (without its newline) and the cursor just after it.
public struct JournalLine: Sendable {
    public var bytes: [UInt8]
    /// Opaque position after this line: a byte offset for files and memory, seq + 1 for SQL.
    public var end: Int64

    public init(bytes: [UInt8], end: Int64) {
        self.bytes = bytes
        self.end = end
    }
}

/// The storage contract every backend meets (files, memory, PostgreSQL); the conformance suite
/// in the tests is its executable definition.
///
/// Stores keep lines; they do not interpret events. The writer (``StatusBook``) checks rules,
/// chains and signs; the store gives it exclusive, durable appends and ordered reads.
public protocol JournalStore: Sendable {
    /// Creates a journal whose first line is `genesis`. Throws `.alreadyExists` if there is one.
    func createJournal(_ ref: JournalRef, genesis: [UInt8]) async throws

    /// Whether the journal exists.
    func journalExists(_ ref: JournalRef) async throws -> Bool

    /// Complete lines from `cursor` on, at most about `limit` bytes (at least one line if any).
    /// An empty result means the end. Never returns a partial line.
    func read(_ ref: JournalRef, from cursor: Int64, limit: Int) async throws -> [JournalLine]

    /// Appends under mutual exclusion with every other writer, in this process and any other.
    ///
    /// While holding exclusion the store calls `build` once with the lines after `cursor` that
    /// the caller has not seen, in order; `build` returns the lines to append, each ending in a
    /// newline (possibly none). The call returns the cursor after the appended lines only when
    /// they are durable. If `build` throws, nothing is written.
    func append(_ ref: JournalRef, from cursor: Int64,
                _ build: @Sendable ([JournalLine]) throws -> [[UInt8]]) async throws -> Int64

    /// The stored snapshot bytes, if any.
    func loadSnapshot(_ ref: JournalRef) async throws -> [UInt8]?

    /// Replaces the snapshot atomically, unless the stored one reflects a later seq.
    func storeSnapshot(_ ref: JournalRef, _ bytes: [UInt8], seq: Int) async throws

    /// Replaces the snapshot atomically, as `write` says: unless the stored one reflects a later
    /// seq (and `write.replaceLater` is false); durably only if `write.durable`.
    func storeSnapshot(_ ref: JournalRef, _ bytes: [UInt8], seq: Int, _ write: SnapshotWrite) async throws

    /// The line (without its newline) that ends exactly at `cursor`, read cheaply (a small read
    /// before the cursor, not a scan from the start); nil when the store cannot tell cheaply or
    /// no line ends there. ``StatusBook`` uses it to bind a snapshot to the journal.
    func line(endingAt cursor: Int64, _ ref: JournalRef) async throws -> [UInt8]?
}

/// How a snapshot is stored.
public struct SnapshotWrite: Sendable {
    /// Synced to disk before the call returns. A snapshot is a cache that readers prove before
    /// they use it, so writes for freshness need not be.
    public var durable: Bool
    /// Replace a stored snapshot even if it claims a later seq (the caller proved that claim
    /// false: the journal ends before it).
    public var replaceLater: Bool

    public init(durable: Bool = true, replaceLater: Bool = false) {
        self.durable = durable
        self.replaceLater = replaceLater
    }
}

extension JournalStore {
    /// Stores without the options a backend does not implement (always durable, never replacing a later one).
    public func storeSnapshot(_ ref: JournalRef, _ bytes: [UInt8], seq: Int, _ write: SnapshotWrite) async throws {
        try await storeSnapshot(ref, bytes, seq: seq)
    }

    /// A backend that cannot read backwards cheaply: every snapshot is replayed from the start.
    public func line(endingAt cursor: Int64, _ ref: JournalRef) async throws -> [UInt8]? { nil }
}

extension JournalStore {
    /// Visits every complete line from `cursor` on, in bounded memory.
    public func forEachLine(_ ref: JournalRef, from cursor: Int64 = 0, batchBytes: Int = 1 << 20,
                            _ body: (JournalLine) throws -> Void) async throws {
        var at = cursor
        while true {
            let batch = try await read(ref, from: at, limit: batchBytes)
            guard let last = batch.last else { return }
            for line in batch { try body(line) }
            at = last.end
        }
    }
}
