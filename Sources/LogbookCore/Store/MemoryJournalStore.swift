import Synchronization

/// The reference backend: journals in memory, for tests and embedding. Cursors are byte
/// offsets, as in the file store.
public final class MemoryJournalStore: JournalStore {
    struct Journal {
        var lines: [[UInt8]] = []
        var ends: [Int64] = []
        var snapshot: (seq: Int, bytes: [UInt8])?
        var size: Int64 { ends.last ?? 0 }
    }

    let journals = Mutex<[JournalRef: Journal]>([:])

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
                       _ build: @Sendable ([JournalLine]) throws -> [[UInt8]]) async throws -> Int64 {
        try journals.withLock { j in
            guard var journal = j[ref] else { throw LogbookError(.notFound, "no status journal", plan: ref.planID) }
            let newer = Self.lines(journal, after: cursor, limit: Int.max)
            let add = try build(newer)
            for l in add {
                precondition(l.last == 0x0A, "journal lines end in a newline")
                journal.lines.append(Array(l.dropLast()))
                journal.ends.append(journal.size + Int64(l.count))
            }
            j[ref] = journal
            return journal.size
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

    public func line(endingAt cursor: Int64, _ ref: JournalRef) async throws -> [UInt8]? {
        journals.withLock { j in
            guard let journal = j[ref] else { return nil }
            var lo = 0, hi = journal.ends.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if journal.ends[mid] < cursor { lo = mid + 1 } else { hi = mid }
            }
            guard lo < journal.ends.count, journal.ends[lo] == cursor else { return nil }
            return journal.lines[lo]
        }
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
