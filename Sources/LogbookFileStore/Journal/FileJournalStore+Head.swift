#if canImport(Glibc)
import Glibc
#endif
import LogbookCore

/// Reading a journal from its durable end: the head, and the line at a seq (which proves a
/// snapshot), without reading it from the start.
extension FileJournalStore {
    /// Reads backwards from the durable end of the live file; when the live file holds no complete
    /// line (just rotated), the head is the last segment's, as its manifest lists it.
    public func head(_ ref: JournalRef) async throws -> JournalHead? {
        try await Blocking.run { [self] in try headNow(ref) }
    }

    func headNow(_ ref: JournalRef) throws -> JournalHead? {
        try shared(ref) { h, m, live in
            let base = live.base
            let end = live.durable
            guard end > 0 else {
                guard let last = m.segments.last, base == last.end else { return nil }
                return JournalHead(seq: last.lastSeq, hash: last.lastHash, end: last.end)
            }
            let start = try lineStart(h, before: end - 1)
            return JournalHead(line: try readRange(h.fd, from: start, count: end - 1 - start), end: base + end)
        }
    }

    /// The line at `seq`: in the live file at `hint` if the line ending there has that seq, else
    /// by binary search over the live file's lines (seqs ascend in a journal nobody edited; in
    /// one that was edited the search may miss, and the caller replays); in a rotated segment
    /// (the manifest lists each one's seqs) by decoding that one segment up to it.
    public func line(atSeq seq: Int, hint: Int64?, _ ref: JournalRef) async throws -> JournalLine? {
        try await Blocking.run { [self] in try lineNow(atSeq: seq, hint: hint, ref) }
    }

    func lineNow(atSeq seq: Int, hint: Int64?, _ ref: JournalRef) throws -> JournalLine? {
        try shared(ref) { h, m, live in
            let base = live.base
            let end = live.durable
            if let hint, hint > base, hint - base <= end {
                let at = hint - base
                if try readRange(h.fd, from: at - 1, count: 1) == [0x0A] {
                    let start = try lineStart(h, before: at - 1)
                    let bytes = try readRange(h.fd, from: start, count: at - 1 - start)
                    if JournalHead.seq(bytes) == seq { return JournalLine(bytes: bytes, end: hint) }
                }
            }
            if let seg = m.segments.first(where: { $0.firstSeq <= seq && seq <= $0.lastSeq }), seg.end <= base {
                var at = seg.start
                while at < seg.end {
                    let batch = try lines(ref, h, m, from: at, limit: 1 << 20, liveSize: end, base: base).lines
                    guard let last = batch.last else { return nil }
                    for l in batch where l.end <= seg.end && JournalHead.seq(l.bytes) == seq { return l }
                    at = last.end
                }
                return nil
            }
            var lo: Int64 = 0, hi = end
            while lo < hi {
                let mid = lo + (hi - lo) / 2
                let start = try lineStart(h, before: mid)
                guard let stop = try lineEnd(h, from: mid, limit: end) else { return nil }
                let bytes = try readRange(h.fd, from: start, count: stop - 1 - start)
                guard let s = JournalHead.seq(bytes) else { return nil }
                if s == seq { return JournalLine(bytes: bytes, end: base + stop) }
                if s < seq { lo = stop } else { hi = start }
            }
            return nil
        }
    }

    /// The live-file offset just after its last newline (0 if none): where its complete lines end.
    func completeEnd(_ h: Handle, size: Int64) throws -> Int64 {
        try lineStart(h, before: size)
    }

    /// The start of the live-file line that holds byte `offset`: just after the newline before it, or 0.
    func lineStart(_ h: Handle, before offset: Int64) throws -> Int64 {
        var scan = offset
        while scan > 0 {
            let from = max(0, scan - 4096)
            let chunk = try readRange(h.fd, from: from, count: scan - from)
            if let i = chunk.lastIndex(of: 0x0A) { return from + Int64(i) + 1 }
            scan = from
        }
        return 0
    }

    /// Just after the first newline at or after `offset` and before `limit`, if there is one.
    func lineEnd(_ h: Handle, from offset: Int64, limit: Int64) throws -> Int64? {
        var at = offset
        while at < limit {
            let chunk = try readRange(h.fd, from: at, count: min(4096, limit - at))
            if chunk.isEmpty { return nil }
            if let i = chunk.firstIndex(of: 0x0A) { return at + Int64(i) + 1 }
            at += Int64(chunk.count)
        }
        return nil
    }
}
