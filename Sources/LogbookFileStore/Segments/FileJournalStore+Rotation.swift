#if canImport(Glibc)
import Glibc
#endif
import LogbookCore

/// Rotation of the live journal into gzip segments, in four steps, each safe to crash after:
///
/// 1. write `exec_status_<g>_archive_<n>.jsonl.gz` (temp, fsync, rename, directory fsync);
/// 2. write the manifest listing it, with `rotating: true` (atomic, durable);
/// 3. empty the live file and fdatasync it;
/// 4. write the manifest with `rotating: false`.
///
/// A crash after 1 leaves an unlisted segment file that the next rotation replaces. After 2 or
/// 3, the next writer (or `logbook recover`) finishes the rotation in ``finishRotation(_:_:_:)``;
/// readers meanwhile see the right text because a rotating manifest with a non-empty live file
/// means the live file still starts where the last segment does.
extension FileJournalStore {
    /// Rotates the live file's `liveSize` bytes (whole lines) into the next segment. Called by a
    /// writer holding the journal's exclusive lock. A failure before the live file is touched is
    /// logged and the append goes on; a failure after that is thrown (nothing is appended).
    ///
    /// - Parameter strict: rethrow a failure instead of logging it (archive must not go on).
    func rotate(_ ref: JournalRef, _ h: Handle, _ m: SegmentManifest, liveSize: Int64, strict: Bool = false) throws -> SegmentManifest {
        let bytes = try readRange(h.fd, from: 0, count: liveSize)
        guard bytes.count == Int(liveSize), bytes.last == 0x0A else { return m }
        let n = m.segments.count + 1
        var tree = MerkleAccumulator()
        if let previous = m.segments.last {
            tree = try MerkleAccumulator(size: previous.treeSize, compactRange: previous.compactRange)
        }
        // The tree needs every line's hash, the manifest the first and last seq: read from each
        // line's top-level "seq" and "hash" only (whatever the envelope's version).
        var first: (seq: Int, hash: Digest256)?, last: (seq: Int, hash: Digest256)?
        var lineStart = 0
        for i in bytes.indices where bytes[i] == 0x0A {
            guard let (seq, text) = JournalHead.seqAndHash(Array(bytes[lineStart..<i])), let hash = Digest256(text) else {
                throw LogbookError(.corrupt, "the live journal of \(ref) holds a line at offset \(lineStart) without a top-level seq and sha256 hash; run `logbook verify`", plan: ref.planID)
            }
            if first == nil {
                guard tree.size == seq else {
                    throw LogbookError(.corrupt, "the live journal of \(ref) starts at seq \(seq), but its segments end at seq \(tree.size - 1)", plan: ref.planID, seq: seq)
                }
                first = (seq, hash)
            }
            tree.append(leafData: hash.bytes)
            last = (seq, hash)
            lineStart = i + 1
        }
        guard let first, let last else { return m }
        let segment = SegmentManifest.Segment(
            file: Paths.fileName(of: segmentPath(ref, n)), start: m.segmentBytes, bytes: liveSize,
            firstSeq: first.seq, lastSeq: last.seq, lastHash: last.hash.description, sha256: Digest256.of(bytes).hex,
            treeRoot: tree.root, compactRange: tree.compactRange)
        var next = m
        next.segments.append(segment)
        next.rotating = true
        do {
            try AtomicFile(ops: ops).write(segmentPath(ref, n), Gzip.compress(bytes), mode: 0o444)
            try writeManifest(ref, next)
        } catch {
            if strict { throw error }
            // The live file is untouched. If the manifest did become visible, readers and the
            // next writer see a rotating manifest and a live file that still holds the
            // segment's bytes plus what follows: finishRotation rolls it back.
            logger.warning("journal rotation of \(ref) into \(segment.file) failed and was skipped (the live journal is intact): \(error)")
            return m
        }
        logger.info("rotated \(liveSize) bytes (seq \(first.seq)–\(last.seq)) of \(ref) into \(segment.file)")
        return try finishRotation(ref, h, next)
    }

    /// Completes (or rolls back) a rotation whose manifest still says `rotating`.
    func finishRotation(_ ref: JournalRef, _ h: Handle, _ m: SegmentManifest) throws -> SegmentManifest {
        guard m.rotating, let last = m.segments.last else { return m }
        let size = try ops.size(h.fd)
        var done = m
        done.rotating = false
        if size > 0 {
            let prefix = try readRange(h.fd, from: 0, count: min(size, last.bytes))
            guard size >= last.bytes, Digest256.of(prefix).hex == last.sha256 else {
                throw LogbookError(.corrupt, "an unfinished rotation into \(last.file) does not match the live journal (\(size) bytes; the segment holds \(last.bytes) with sha256 \(last.sha256)); run `logbook verify`", plan: ref.planID, seq: last.firstSeq)
            }
            if size == last.bytes {
                do {
                    try ops.ftruncate(h.fd, 0)
                    try ops.fdatasync(h.fd)
                } catch {
                    poison(ref, h)
                    throw error.on(h.path)
                }
                logger.notice("emptied the live journal of \(ref) after rotating it into \(last.file)")
            } else {
                // The manifest became visible but the rotation went no further and writers went
                // on appending: the live file still holds everything, so drop the segment.
                done.segments.removeLast()
                try writeManifest(ref, done)
                ops.unlink(directory + "/" + last.file)
                logger.notice("rolled back an unfinished rotation of \(ref) into \(last.file); the live journal holds those events")
                return done
            }
        }
        try writeManifest(ref, done)
        return done
    }

    func writeManifest(_ ref: JournalRef, _ m: SegmentManifest) throws {
        try AtomicFile(ops: ops).write(manifestPath(ref), PrettyJSON.bytes(m.json), mode: 0o644)
    }

    /// The segment manifest as stored (empty if the journal was never rotated).
    public func segments(_ ref: JournalRef) throws -> SegmentManifest {
        try manifest(ref, try handle(ref))
    }
}
