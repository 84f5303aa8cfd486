#if canImport(Glibc)
import Glibc
#endif
import LogbookCore

/// Where the file store keeps check marks (``CheckMark``, opaque bytes here): 32 slots after
/// the durable mark's record in `.exec_status_<g>.durable`, each the end of the batch the mark
/// was written with (a position in the journal's text) and the mark's bytes.
///
/// - A writer reads the slots under the journal's exclusive lock, hands the newest to its
///   `build`, and after writing its lines overwrites the oldest slot with its own mark.
/// - A reader (under the shared lock) takes the newest slot whose batch ends at or before the
///   durable end, so it only ever uses a mark for lines it may read.
/// - A failed sync's cut clears the slots past the durable end (their lines are gone).
/// - Nothing here is trusted: the book checks a mark's signature and that the journal's chain
///   reaches its hash before it uses it; a torn, stale or edited slot is simply not used.
struct CheckMarkRing {
    static let offset: Int64 = Int64(DurableMark.size)
    static let slots = 32
    static let slotSize = 256
    static let maxMark = slotSize - 10

    struct Slot {
        var end: Int64
        var mark: [UInt8]
    }

    /// The slots' bytes, parsed; empty or malformed slots are nil.
    static func parse(_ bytes: [UInt8]) -> [Slot?] {
        (0..<slots).map { k -> Slot? in
            let at = k * slotSize
            guard bytes.count >= at + slotSize else { return nil }
            var end: UInt64 = 0
            for b in 0..<8 { end |= UInt64(bytes[at + b]) << (8 * UInt64(b)) }
            let n = Int(bytes[at + 8]) | Int(bytes[at + 9]) << 8
            guard end > 0, end <= UInt64(Int64.max), n > 0, n <= maxMark else { return nil }
            return Slot(end: Int64(end), mark: Array(bytes[(at + 10)..<(at + 10 + n)]))
        }
    }

    /// The mark of the newest slot whose batch ends at or before `end` (any slot without it).
    static func newest(_ slots: [Slot?], endingBy end: Int64 = .max) -> [UInt8]? {
        slots.compactMap { $0 }.filter { $0.end <= end }.max { $0.end < $1.end }?.mark
    }

    static func slotBytes(_ s: Slot) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(slotSize)
        withUnsafeBytes(of: UInt64(s.end).littleEndian) { out.append(contentsOf: $0) }
        out.append(UInt8(s.mark.count & 0xFF))
        out.append(UInt8(s.mark.count >> 8))
        out.append(contentsOf: s.mark)
        out.append(contentsOf: [UInt8](repeating: 0, count: slotSize - out.count))
        return out
    }
}

extension FileJournalStore {
    func readCheckMarks(_ h: Handle) throws -> [CheckMarkRing.Slot?] {
        CheckMarkRing.parse(try readRange(h.markFD, from: CheckMarkRing.offset, count: Int64(CheckMarkRing.slots * CheckMarkRing.slotSize)))
    }

    /// Keeps `mark` for the batch ending at `end` in the oldest slot (under the exclusive lock).
    /// A mark that does not fit, or a failed write, is dropped: marks only save work.
    func keepCheckMark(_ h: Handle, _ slots: [CheckMarkRing.Slot?], mark: [UInt8], end: Int64) {
        guard mark.count <= CheckMarkRing.maxMark else { return }
        let k = slots.indices.min { (slots[$0]?.end ?? -1) < (slots[$1]?.end ?? -1) } ?? 0
        let at = CheckMarkRing.offset + Int64(k * CheckMarkRing.slotSize)
        try? ops.pwriteAll(h.markFD, CheckMarkRing.slotBytes(.init(end: end, mark: mark)), at)
    }

    /// Clears the slots whose batch ends after `durable` (under the exclusive lock, after a cut).
    func dropCheckMarks(_ h: Handle, after durable: Int64) {
        guard let slots = try? readCheckMarks(h) else { return }
        for (k, s) in slots.enumerated() where (s?.end ?? 0) > durable {
            let at = CheckMarkRing.offset + Int64(k * CheckMarkRing.slotSize)
            try? ops.pwriteAll(h.markFD, [UInt8](repeating: 0, count: CheckMarkRing.slotSize), at)
        }
    }

    public func loadCheckMark(_ ref: JournalRef) async throws -> [UInt8]? {
        try await Blocking.run { [self] in
            try shared(ref) { h, _, view in try newestDurableMark(h, view) }
        }
    }

    public func readWithCheckMark(_ ref: JournalRef, from cursor: Int64, limit: Int) async throws -> (lines: [JournalLine], checkMark: [UInt8]?) {
        try await Blocking.run { [self] in
            try shared(ref) { h, m, view in
                (try lines(ref, h, m, from: cursor, limit: limit, liveSize: view.durable, base: view.base).lines, try newestDurableMark(h, view))
            }
        }
    }

    /// The newest slot's mark whose batch ends within the durable part (under the shared lock).
    private func newestDurableMark(_ h: Handle, _ view: LiveView) throws -> [UInt8]? {
        CheckMarkRing.newest(try readCheckMarks(h), endingBy: view.base + view.durable)
    }
}
