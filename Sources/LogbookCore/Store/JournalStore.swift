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

/// The storage contract every backend meets (files, memory, PostgreSQL). Its executable
/// definition is the `LogbookStoreConformance` library, which every backend's tests run.
///
/// Stores keep lines; they do not interpret events, except for the top-level `"seq"` and
/// `"hash"` members of a line (``JournalHead``), which every envelope version keeps. The writer
/// (``StatusBook``) checks rules, chains and signs; the store gives it exclusive, durable
/// appends and ordered reads of durable lines.
///
/// **Durable lines only.** Every read (``read(_:from:limit:)``, ``head(_:)``,
/// ``line(atSeq:hint:_:)``, the lines `append` hands to `build`, ``changes(_:)``) returns only
/// lines whose append has made them durable: a reader in this process or another never sees a
/// line that a crash or a failed sync could still take back. A line the store could not make
/// durable is never returned later either.
///
/// **Positions.** A position (``JournalLine/end``, ``JournalHead/end``, the `from` of reads and
/// appends) is opaque and backend-specific: a byte offset in the journal's text for files and
/// memory, seq + 1 for SQL. Nothing a store writes into shared bytes (snapshots, reports,
/// checkpoints) may contain one; 0 is always the start.
public protocol JournalStore: Sendable {
    /// Creates a journal whose first line is `genesis` (ending in a newline), durably.
    ///
    /// - Throws: `.alreadyExists` if there is one; nothing is changed then.
    func createJournal(_ ref: JournalRef, genesis: [UInt8]) async throws

    /// Whether the journal exists.
    func journalExists(_ ref: JournalRef) async throws -> Bool

    /// Complete durable lines from position `cursor` on, in order, at most about `limit` bytes
    /// (at least one line if there is any). An empty result means the durable end. Never returns
    /// a partial line.
    ///
    /// - Throws: `.notFound` if there is no journal.
    func read(_ ref: JournalRef, from cursor: Int64, limit: Int) async throws -> [JournalLine]

    /// Appends under mutual exclusion with every other writer, in this process and any other.
    ///
    /// While holding exclusion the store calls `build` once with the lines after `cursor` that
    /// the caller has not seen, in order; `build` returns the lines to append, each ending in a
    /// newline (possibly none). The call returns the position after the appended lines only when
    /// they are durable; they become visible to readers at the same moment, not before.
    ///
    /// - Throws: whatever `build` throws, with nothing written. `.locked` after ``seal(_:)`` when
    ///   `build` returned lines (it is still called, so a writer's own refusal comes first).
    ///   `.io` when the bytes could not be written (nothing was written: the store cut any
    ///   partial bytes). `.indeterminate` when the bytes were written but the sync failed: the
    ///   lines are not acknowledged and are never returned by a later read of this store, but a
    ///   crash may still have made them durable, so a retry must reuse the idempotency key.
    func append(_ ref: JournalRef, from cursor: Int64,
                _ build: @escaping @Sendable ([JournalLine]) throws -> [[UInt8]]) async throws -> Int64

    /// The last durable line's seq, chain hash and end, read without reading the journal from the
    /// start (files read backwards from the durable end). Nil when the journal holds no complete
    /// line with top-level `seq` and `hash` at its end.
    ///
    /// - Throws: `.notFound` if there is no journal.
    func head(_ ref: JournalRef) async throws -> JournalHead?

    /// The heads as the durable end advances: first the head when the stream starts, then a head
    /// each time the durable end moves (appends by this process or another). Heads may be
    /// coalesced (a consumer reads the lines it missed by position); the same head is not
    /// repeated. The stream finishes when the consumer's task is cancelled or the consumer
    /// stops iterating (every thread, watch and descriptor it used is released), or at once if
    /// there is no journal.
    func changes(_ ref: JournalRef) -> AsyncStream<JournalHead>

    /// Seals the journal for archive: makes everything durable in the store's final form (files:
    /// the live file moves into a last segment) and marks it sealed, durably. Afterwards every
    /// ``append(_:from:_:)`` throws `.locked`; reads go on. Sealing a sealed journal does nothing.
    ///
    /// - Returns: what now holds the journal and what was made read-only, for messages.
    /// - Throws: `.refused` while findings stand in the way (a torn tail: run `logbook recover`).
    @discardableResult
    func seal(_ ref: JournalRef) async throws -> SealedJournal

    /// Whether ``seal(_:)`` has sealed the journal.
    func isSealed(_ ref: JournalRef) async throws -> Bool

    /// What the store found in its own data that is not a journal line: a torn tail awaiting
    /// recovery, a segment that cannot be used. Empty when all is well. Cheap (no full read).
    func findings(_ ref: JournalRef) async throws -> [StoreFinding]

    /// The stored snapshot bytes, if any.
    func loadSnapshot(_ ref: JournalRef) async throws -> [UInt8]?

    /// Replaces the snapshot atomically, unless the stored one reflects a later seq.
    func storeSnapshot(_ ref: JournalRef, _ bytes: [UInt8], seq: Int) async throws

    /// Replaces the snapshot atomically, as `write` says: unless the stored one reflects a later
    /// seq (and `write.replaceLater` is false); durably only if `write.durable`.
    func storeSnapshot(_ ref: JournalRef, _ bytes: [UInt8], seq: Int, _ write: SnapshotWrite) async throws

    /// The durable line whose top-level `seq` is `seq`, with the position after it, found without
    /// reading the journal from the start (files: a binary search of the live file, or one
    /// rotated segment decoded). `hint` is a position this store gave out earlier (a
    /// ``JournalLine/end``) that the caller believes ends that line; the store checks it and
    /// searches if it is wrong or nil. Never another seq's line; nil when there is none (or, in
    /// a journal edited out of seq order, when the search misses it): a caller then reads from
    /// the start.
    ///
    /// ``StatusBook`` uses it to prove a snapshot (which records seq and head hash only) against
    /// the journal; the caller checks the line's hash itself.
    func line(atSeq seq: Int, hint: Int64?, _ ref: JournalRef) async throws -> JournalLine?

    /// ``append(_:from:_:)`` that also keeps a check mark (``CheckMark``, opaque bytes here):
    /// `build` gets the lines as there and the newest mark stored with an earlier append (read
    /// under the same exclusion; it may name lines written but not yet durable, which `build`
    /// is given too), and returns the lines and a mark to keep with them. A store keeps a mark
    /// only with its lines: a mark whose append failed is never returned.
    ///
    /// Optional: the default passes no mark and drops the one returned, and writers then check
    /// every line's signature themselves.
    func append(_ ref: JournalRef, from cursor: Int64,
                marking build: @escaping @Sendable ([JournalLine], [UInt8]?) throws -> MarkedLines) async throws -> Int64

    /// The newest check mark kept with lines that are durable now (a reader may use it for the
    /// lines ``read(_:from:limit:)`` returns), nil if none. Optional: the default keeps none.
    func loadCheckMark(_ ref: JournalRef) async throws -> [UInt8]?

    /// ``read(_:from:limit:)`` and ``loadCheckMark(_:)`` in one view: the lines, and the newest
    /// mark kept with lines durable at that moment (so a catching-up reader's lines and mark
    /// agree). Optional: the default reads the mark, then the lines.
    func readWithCheckMark(_ ref: JournalRef, from cursor: Int64, limit: Int) async throws -> (lines: [JournalLine], checkMark: [UInt8]?)
}

extension JournalStore {
    public func append(_ ref: JournalRef, from cursor: Int64,
                       marking build: @escaping @Sendable ([JournalLine], [UInt8]?) throws -> MarkedLines) async throws -> Int64 {
        try await append(ref, from: cursor) { newer in try build(newer, nil).lines }
    }

    public func loadCheckMark(_ ref: JournalRef) async throws -> [UInt8]? { nil }

    public func readWithCheckMark(_ ref: JournalRef, from cursor: Int64, limit: Int) async throws -> (lines: [JournalLine], checkMark: [UInt8]?) {
        let mark = try await loadCheckMark(ref)
        return (try await read(ref, from: cursor, limit: limit), mark)
    }
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

/// What ``JournalStore/seal(_:)`` left: how many stored pieces hold the whole journal now
/// (files: gzip segments; memory or a table: one), their bytes, and the names of what it made
/// read-only (file paths on files; nothing where rows are sealed by a flag).
public struct SealedJournal: Sendable, Equatable {
    public var parts: Int
    public var bytes: Int64
    public var readOnly: [String]

    public init(parts: Int, bytes: Int64, readOnly: [String]) {
        self.parts = parts
        self.bytes = bytes
        self.readOnly = readOnly
    }
}
