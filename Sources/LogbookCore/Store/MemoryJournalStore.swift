import Synchronization

/// The reference backend: journals in memory, for tests and embedding. Cursors are byte
/// offsets, as in the file store.
///
/// Durability is the append's return: the lines join the journal (and become visible to
/// readers and to ``changes(_:)``) in one step under the store's mutex, after `build` returned.
public final class MemoryJournalStore: JournalStore {
    struct Journal {
        var lines: [[UInt8]] = []
        var ends: [Int64] = []
        var snapshot: (seq: Int, bytes: [UInt8])?
        var sealed = false
        /// The newest check mark, kept with the append that wrote it.
        var checkMark: [UInt8]?
        /// The consumers of ``changes(_:)``, by subscription number.
        var watchers: [Int: AsyncStream<JournalHead>.Continuation] = [:]
        var size: Int64 { ends.last ?? 0 }

        var head: JournalHead? {
            guard let last = lines.last else { return nil }
            return JournalHead(line: last, end: size)
        }
    }

    let journals = Mutex<[JournalRef: Journal]>([:])
    let nextWatcher = Mutex(0)

    public init() {}

    public func createJournal(_ ref: JournalRef, genesis: [UInt8]) async throws {
        try journals.withLock { j in
            guard j[ref] == nil else { throw LogbookError(.alreadyExists, "a status journal already exists", plan: ref.planID) }
            var new = Journal()
            new.lines = [Array(genesis.dropLast(genesis.last == 0x0A ? 1 : 0))]
            new.ends = [Int64(genesis.count)]
            j[ref] = new
        }
    }

    public func journalExists(_ ref: JournalRef) async throws -> Bool {
        journals.withLock { $0[ref] != nil }
    }

    public func read(_ ref: JournalRef, from cursor: Int64, limit: Int) async throws -> [JournalLine] {
        try journals.withLock { j in
            guard let journal = j[ref] else { throw LogbookError(.notFound, "no status journal", plan: ref.planID) }
            return Self.lines(journal, after: cursor, limit: limit)
        }
    }

    static func lines(_ journal: Journal, after cursor: Int64, limit: Int) -> [JournalLine] {
        // First line whose start is `cursor`.
        var lo = 0, hi = journal.ends.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if journal.ends[mid] <= cursor { lo = mid + 1 } else { hi = mid }
        }
        var out: [JournalLine] = []
        var bytes = 0
        var i = lo
        while i < journal.lines.count, bytes < limit || out.isEmpty {
            out.append(JournalLine(bytes: journal.lines[i], end: journal.ends[i]))
            bytes += journal.lines[i].count + 1
            i += 1
        }
        return out
    }

    public func append(_ ref: JournalRef, from cursor: Int64,
                       _ build: @escaping @Sendable ([JournalLine]) throws -> [[UInt8]]) async throws -> Int64 {
        try await append(ref, from: cursor, marking: { newer, _ in MarkedLines(lines: try build(newer)) })
    }

    public func append(_ ref: JournalRef, from cursor: Int64,
                       marking build: @escaping @Sendable ([JournalLine], [UInt8]?) throws -> MarkedLines) async throws -> Int64 {
        try journals.withLock { j throws -> Int64 in
            guard var journal = j[ref] else { throw LogbookError(.notFound, "no status journal", plan: ref.planID) }
            let newer = Self.lines(journal, after: cursor, limit: Int.max)
            let marked = try build(newer, journal.checkMark)
            let add = marked.lines
            // After `build`: the writer's own refusal (the plan is ARCHIVED) says more than ours.
            guard add.isEmpty || !journal.sealed else { throw Self.sealedError(ref) }
            for l in add {
                precondition(l.last == 0x0A, "journal lines end in a newline")
                journal.lines.append(Array(l.dropLast()))
                journal.ends.append(journal.size + Int64(l.count))
            }
            if !add.isEmpty, let m = marked.checkMark { journal.checkMark = m }
            j[ref] = journal
            // Under the mutex, so heads reach every watcher in order (a yield never blocks).
            if !add.isEmpty, let head = journal.head {
                for c in journal.watchers.values { c.yield(head) }
            }
            return journal.size
        }
    }

    public func loadCheckMark(_ ref: JournalRef) async throws -> [UInt8]? {
        try journals.withLock { j in
            guard let journal = j[ref] else { throw LogbookError(.notFound, "no status journal", plan: ref.planID) }
            return journal.checkMark
        }
    }

    static func sealedError(_ ref: JournalRef) -> LogbookError {
        LogbookError(.locked, "the journal of \(ref) is sealed (the plan is archived); nothing was written", plan: ref.planID)
    }

    public func head(_ ref: JournalRef) async throws -> JournalHead? {
        try journals.withLock { j in
            guard let journal = j[ref] else { throw LogbookError(.notFound, "no status journal", plan: ref.planID) }
            return journal.head
        }
    }

    /// Wakes on every append that added lines. A stream started after the journal was removed
    /// (or before it exists) finishes at once.
    public func changes(_ ref: JournalRef) -> AsyncStream<JournalHead> {
        let id = nextWatcher.withLock { n -> Int in n += 1; return n }
        let (stream, continuation) = AsyncStream<JournalHead>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let start: JournalHead?? = journals.withLock { j in
            guard j[ref] != nil else { return nil }
            j[ref]!.watchers[id] = continuation
            return .some(j[ref]!.head)
        }
        guard let start else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            self?.journals.withLock { j in _ = j[ref]?.watchers.removeValue(forKey: id) }
        }
        if let head = start { continuation.yield(head) }
        return stream
    }

    @discardableResult
    public func seal(_ ref: JournalRef) async throws -> SealedJournal {
        try journals.withLock { j in
            guard j[ref] != nil else { throw LogbookError(.notFound, "no status journal", plan: ref.planID) }
            j[ref]!.sealed = true
            return SealedJournal(parts: 1, bytes: Int64(j[ref]!.ends.last ?? 0), readOnly: [])
        }
    }

    public func isSealed(_ ref: JournalRef) async throws -> Bool {
        try journals.withLock { j in
            guard let journal = j[ref] else { throw LogbookError(.notFound, "no status journal", plan: ref.planID) }
            return journal.sealed
        }
    }

    /// Memory never holds a partial line or a segment: always empty for an existing journal.
    public func findings(_ ref: JournalRef) async throws -> [StoreFinding] {
        try journals.withLock { j in
            guard j[ref] != nil else { throw LogbookError(.notFound, "no status journal", plan: ref.planID) }
            return []
        }
    }

    public func loadSnapshot(_ ref: JournalRef) async throws -> [UInt8]? {
        journals.withLock { $0[ref]?.snapshot?.bytes }
    }

    public func storeSnapshot(_ ref: JournalRef, _ bytes: [UInt8], seq: Int) async throws {
        try await storeSnapshot(ref, bytes, seq: seq, SnapshotWrite())
    }

    public func storeSnapshot(_ ref: JournalRef, _ bytes: [UInt8], seq: Int, _ write: SnapshotWrite) async throws {
        journals.withLock { j in
            guard var journal = j[ref] else { return }
            if !write.replaceLater, let s = journal.snapshot, s.seq > seq { return }
            journal.snapshot = (seq, bytes)
            j[ref] = journal
        }
    }

    /// The hint is checked (the line ending there must carry `seq`), else a binary search by seq
    /// over the lines (seqs ascend in a journal that is not tampered with; if they do not, the
    /// search may miss and returns nil, never another seq's line).
    public func line(atSeq seq: Int, hint: Int64?, _ ref: JournalRef) async throws -> JournalLine? {
        journals.withLock { j in
            guard let journal = j[ref] else { return nil }
            if let hint, let i = Self.index(endingAt: hint, journal), JournalHead.seq(journal.lines[i]) == seq {
                return JournalLine(bytes: journal.lines[i], end: journal.ends[i])
            }
            var lo = 0, hi = journal.lines.count
            while lo < hi {
                let mid = (lo + hi) / 2
                guard let s = JournalHead.seq(journal.lines[mid]) else { return nil }
                if s == seq { return JournalLine(bytes: journal.lines[mid], end: journal.ends[mid]) }
                if s < seq { lo = mid + 1 } else { hi = mid }
            }
            return nil
        }
    }

    static func index(endingAt cursor: Int64, _ journal: Journal) -> Int? {
        var lo = 0, hi = journal.ends.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if journal.ends[mid] < cursor { lo = mid + 1 } else { hi = mid }
        }
        guard lo < journal.ends.count, journal.ends[lo] == cursor else { return nil }
        return lo
    }

    /// Test hook: replace the stored snapshot bytes (to simulate a forged or damaged snapshot); nil removes it.
    public func setRawSnapshot(_ ref: JournalRef, _ bytes: [UInt8]?) {
        journals.withLock { j in
            guard var journal = j[ref] else { return }
            journal.snapshot = bytes.map { (SnapshotSeal.storedSeq($0) ?? -1, $0) }
            j[ref] = journal
        }
    }

    /// Test hook: replace the raw lines (to simulate tampering).
    public func withRawLines(_ ref: JournalRef, _ edit: (inout [[UInt8]]) -> Void) {
        journals.withLock { j in
            guard var journal = j[ref] else { return }
            edit(&journal.lines)
            var total: Int64 = 0
            journal.ends = journal.lines.map { total += Int64($0.count + 1); return total }
            j[ref] = journal
        }
    }
}
