#if canImport(Glibc)
import Glibc
#endif
import LogbookCore

/// How far a journal is durable: `.exec_status_<g>.durable` beside it, one 32-byte record
/// (magic, the journal file's inode, a generation, the durable end as an offset in the journal's
/// text). Readers show lines up to `end` only, so a writer may release the journal's lock before
/// its `fdatasync` and writers in other processes can share one disk flush, while no reader ever
/// sees a line that a crash could still take away (docs/FORMAT.md §1a).
///
/// - A writer raises `end` to the end of its lines after its sync succeeded, under the journal's
///   exclusive lock (readers read the record under the shared lock, so they never see half of it).
/// - A failed sync cuts the live file back to `end` (every line past it is unacknowledged) and
///   bumps `generation`: a writer whose lines were written before the cut sees the new generation
///   when it comes to raise `end` and reports its append as indeterminate, never as done.
/// - Rotation and seal raise `end` to the segments' end: a segment is written and synced whole.
/// - The record itself is not synced: after a power loss it may be older (lower) than the
///   journal, never ahead of it (it is written only after the journal's sync). A process that
///   opens the journal and finds it missing, stale or naming another file (a journal replaced
///   by a restore) syncs the journal once and writes it afresh.
struct DurableMark: Equatable {
    var generation: UInt64
    var end: Int64

    static let size = 32
    static let magic: UInt64 = 0x314D_4442_4C00_0000  // "\0\0\0LBDM1" little-endian

    func bytes(inode: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Self.size)
        for v in [Self.magic, inode, generation, UInt64(bitPattern: end)] {
            withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
        }
        return out
    }

    /// The record in `bytes` if it is one and names the journal file `inode`.
    static func parse(_ bytes: [UInt8], inode: UInt64) -> DurableMark? {
        guard bytes.count == size else { return nil }
        func word(_ i: Int) -> UInt64 {
            var v: UInt64 = 0
            for k in 0..<8 { v |= UInt64(bytes[i * 8 + k]) << (8 * UInt64(k)) }
            return v
        }
        guard word(0) == magic, word(1) == inode else { return nil }
        let end = Int64(bitPattern: word(3))
        guard end >= 0 else { return nil }
        return DurableMark(generation: word(2), end: end)
    }
}

extension FileJournalStore {
    public func durableMarkPath(_ ref: JournalRef) -> String { "\(directory)/.exec_status_\(ref.g).durable" }

    /// The stored mark, nil when there is none or it is not this journal file's.
    func readMark(_ h: Handle) throws -> DurableMark? {
        DurableMark.parse(try readRange(h.markFD, from: 0, count: Int64(DurableMark.size)), inode: h.inode)
    }

    func writeMark(_ h: Handle, _ mark: DurableMark) throws {
        do throws(LogbookError) { try ops.pwriteAll(h.markFD, mark.bytes(inode: h.inode), 0) } catch { throw error.on(durableMarkPath(h.ref)) }
    }

    /// Called once per handle, before its first use: a missing or stale mark is made true by
    /// syncing the journal and recording its complete end (lines a writer wrote but had not yet
    /// synced, or left behind when it died before its sync, are durable after this sync).
    func prepareMark(_ h: Handle) throws {
        try exclusively(h) {
            if h.markReady.load(ordering: .acquiring) { return }
            let size = try ops.size(h.fd)
            let m = try manifest(h.ref, h)
            try coverCompleteLines(h, upTo: m.liveBase(liveSize: size) + (try completeEnd(h, size: size)))
            h.markReady.store(true, ordering: .releasing)
        }
    }

    /// Makes the mark cover every complete line up to `complete` (a position in the journal's
    /// text), syncing the journal first if the mark is behind it; writes a missing or foreign
    /// mark afresh. For a caller holding the exclusive lock (handle preparation, `recover`).
    func coverCompleteLines(_ h: Handle, upTo complete: Int64) throws {
        let mark = try readMark(h)
        if let mark, mark.end >= complete { return }
        if complete > (mark?.end ?? 0) {
            do throws(LogbookError) { try ops.fdatasync(h.fd) } catch { throw error.on(h.path) }
        }
        try writeMark(h, DurableMark(generation: mark?.generation ?? 0, end: complete))
    }
}
