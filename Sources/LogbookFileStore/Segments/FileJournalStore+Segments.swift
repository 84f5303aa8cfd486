#if canImport(Glibc)
import Glibc
#endif
import LogbookCore

/// What a handle remembers of the segment manifest, and the open decoder of the segment being read.
struct SegmentCache: Sendable {
    var key: FileVersion?
    var manifest = SegmentManifest()
    var reader: (index: Int, reader: GzipFileReader)?
    /// The tree size up to which this process knows a rotation checkpoint is stored.
    var checkpointedSize = 0
}

extension FileJournalStore {
    public func manifestPath(_ ref: JournalRef) -> String { "\(directory)/exec_status_\(ref.g).segments.json" }
    public func segmentPath(_ ref: JournalRef, _ n: Int) -> String { "\(directory)/exec_status_\(ref.g)_archive_\(n).jsonl.gz" }

    /// The current segment manifest (empty when the journal was never rotated).
    func manifest(_ ref: JournalRef, _ h: Handle) throws -> SegmentManifest {
        let path = manifestPath(ref)
        guard let key = try FileVersion.of(path) else {
            h.segments.withLock { $0.key = nil; $0.manifest = SegmentManifest(); $0.reader = nil }
            return SegmentManifest()
        }
        if let cached = h.segments.withLock({ $0.key == key ? $0.manifest : nil }) { return cached }
        let m = try SegmentManifest(bytes: try readWhole(path), name: Paths.fileName(of: path))
        h.segments.withLock { c in
            if c.manifest.segments.count > m.segments.count { c.reader = nil }
            c.key = key
            c.manifest = m
        }
        return m
    }

    /// The last rotation, if this process has not yet seen a checkpoint stored for it. Answered
    /// from the manifest the handle already holds (read by this process's last append): no I/O,
    /// so it can run after every commit.
    public func rotationAwaitingCheckpoint(_ ref: JournalRef) -> SegmentManifest.Segment? {
        guard let h = handles.withLock({ $0[ref] }) else { return nil }
        return h.segments.withLock { c in
            guard !c.manifest.rotating, let last = c.manifest.segments.last, last.treeSize > c.checkpointedSize else { return nil }
            return last
        }
    }

    /// Notes that a checkpoint at `size` is stored (see ``rotationAwaitingCheckpoint(_:)``).
    public func noteCheckpointed(_ ref: JournalRef, size: Int) {
        guard let h = handles.withLock({ $0[ref] }) else { return }
        h.segments.withLock { $0.checkpointedSize = max($0.checkpointedSize, size) }
    }

    /// Complete lines of the journal's text from `cursor`: segments first, then the live file
    /// (`liveSize` bytes); and the live file's trailing partial line, if any.
    ///
    /// - Parameter base: where the live file starts, when the caller measured it on the whole
    ///   live file but reads only its first `liveSize` bytes (a reader stopping at the durable mark).
    func lines(_ ref: JournalRef, _ h: Handle, _ m: SegmentManifest, from cursor: Int64, limit: Int,
               liveSize: Int64, base knownBase: Int64? = nil) throws -> (lines: [JournalLine], partial: [UInt8]) {
        let base = knownBase ?? m.liveBase(liveSize: liveSize)
        var out: [JournalLine] = []
        var at = cursor
        var total = 0
        if at < base {
            let inSegments = m.segments.filter { $0.end <= base }
            out = try segmentLines(ref, h, inSegments, from: at, limit: limit)
            total = out.reduce(0) { $0 + $1.bytes.count + 1 }
            if total >= limit, !out.isEmpty { return (out, []) }
            at = base
        }
        let live = try readLines(h, from: at, limit: limit - total, upTo: liveSize, base: base)
        if out.isEmpty { return live }
        return (out + live.lines, live.partial)
    }

    /// Lines decoded from the segments, from `cursor` (which lies in one of them).
    func segmentLines(_ ref: JournalRef, _ h: Handle, _ segments: [SegmentManifest.Segment], from cursor: Int64,
                      limit: Int) throws -> [JournalLine] {
        guard var index = segments.firstIndex(where: { cursor < $0.end }) else { return [] }
        var at = cursor
        var out: [JournalLine] = []
        var total = 0
        while index < segments.count, total < limit || out.isEmpty {
            let seg = segments[index]
            let done: Bool
            do {
                done = try readSegment(ref, h, index: index, segment: seg, at: &at, into: &out, total: &total, limit: limit)
            } catch {
                let message = (error as? LogbookError)?.message ?? "\(error)"
                throw LogbookError(.corrupt, message.contains(seg.file) ? message : "segment \(seg.file): \(message)", plan: ref.planID, seq: seg.firstSeq)
            }
            if !done { break }
            index += 1
        }
        return out
    }

    /// Reads lines of one segment from `at` into `out`; returns whether the segment was read to its end.
    func readSegment(_ ref: JournalRef, _ h: Handle, index: Int, segment seg: SegmentManifest.Segment, at: inout Int64,
                     into out: inout [JournalLine], total: inout Int, limit: Int) throws -> Bool {
        let reader = try segmentReader(ref, h, index: index, segment: seg, at: at - seg.start)
        var chunk = reader.scratch
        reader.scratch = []  // keep `chunk` unique while it is filled
        defer { reader.scratch = chunk }
        var splitter = LineSplitter()
        while reader.position < seg.bytes, total < limit || out.isEmpty || !splitter.pending.isEmpty {
            let want = Int(min(Int64(chunk.count), seg.bytes - reader.position))
            let before = reader.position
            let n = try chunk.withUnsafeMutableBytes { try reader.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<want])) }
            if n == 0 {
                throw LogbookError(.corrupt, "\(seg.file) holds \(reader.position) bytes, fewer than the \(seg.bytes) its manifest lists", plan: ref.planID)
            }
            if let rest = splitter.split(chunk[0..<n], at: seg.start + before, into: &out, total: &total, stopAt: limit) {
                // The batch is full: give back what was decoded past its last line.
                reader.unread(chunk[rest..<n])
                break
            }
        }
        if !splitter.pending.isEmpty {
            throw LogbookError(.corrupt, "\(seg.file) does not end with a complete line", plan: ref.planID)
        }
        if reader.position == seg.bytes {
            // Read to its end (every reader that reaches it went through it from its start):
            // the bytes and the last event are the ones the manifest lists.
            guard reader.digest.hex == seg.sha256 else {
                throw LogbookError(.corrupt, "\(seg.file) holds other bytes than its manifest entry lists (sha256 \(reader.digest.hex), listed \(seg.sha256)): it was edited or replaced", plan: ref.planID)
            }
            if let lastLine = out.last, let e = JournalHead.seqAndHash(lastLine.bytes), e.seq != seg.lastSeq || e.hash != seg.lastHash {
                throw LogbookError(.corrupt, "\(seg.file) ends at seq \(e.seq) (\(e.hash)), its manifest entry says seq \(seg.lastSeq) (\(seg.lastHash))", plan: ref.planID)
            }
        }
        // Keep the decoder for the next read from here on.
        h.segments.withLock { $0.reader = reader.position < seg.bytes ? (index, reader) : nil }
        at = seg.start + reader.position
        return reader.position >= seg.bytes
    }

    /// A decoder positioned at `offset` of segment `index`: the cached one when it is there already.
    func segmentReader(_ ref: JournalRef, _ h: Handle, index: Int, segment: SegmentManifest.Segment, at offset: Int64) throws -> GzipFileReader {
        let cached = h.segments.withLock { c -> GzipFileReader? in
            guard let r = c.reader, r.index == index, r.reader.position == offset else { return nil }
            c.reader = nil
            return r.reader
        }
        if let cached { return cached }
        let path = directory + "/" + segment.file
        guard access(path, F_OK) == 0 else {
            throw LogbookError(.corrupt, "segment \(segment.file) (seq \(segment.firstSeq)–\(segment.lastSeq)) is missing", plan: ref.planID, seq: segment.firstSeq)
        }
        let reader = try GzipFileReader(path: path, ops: ops)
        try reader.skip(to: offset)
        return reader
    }
}
