#if canImport(Glibc)
import Glibc
#endif
import LogbookCore
import Logging
import Synchronization

/// The embedded default backend: one append-only file per journal in the workspace folder.
///
/// - Exclusion: `flock(LOCK_EX)` on the journal file between processes, plus a mutex between
///   tasks of one process.
/// - Durability: the lines are written under the lock, the lock is released, the file is
///   `fdatasync`ed, and the call returns only after the sync succeeded and the journal's durable
///   mark (``DurableMark``, `.exec_status_<g>.durable`) covers the lines. Writers in other
///   processes write while one syncs, so concurrent processes share the disk's flushes;
///   ``StatusBook`` batches the events of one process into one append (group commit).
/// - Durable reads: readers take `LOCK_SH` on a second descriptor and show lines up to the
///   durable mark only, so they never see a line whose sync has not completed; a failed sync
///   cuts everything past the mark (none of it was acknowledged) before anyone can read it.
/// - Blocking calls (flock, pread, write, fdatasync) run on NIO's blocking thread pool
///   (``Blocking``), never on Swift's cooperative threads; `build` runs there too, under the lock.
/// - Recovery: a partial last line can only come from a writer that died mid-write (writers hold
///   the lock while writing), so the next writer cuts it off, keeps a copy beside the journal
///   and logs what it removed. Damage anywhere else is left for `verify` to report.
/// - An `fdatasync` failure is never retried into a success: the written bytes are cut, the
///   handle is poisoned and closed, the call throws `.indeterminate`, and the next call reopens
///   the file and re-reads it.
/// - Rotation: once the live file reaches `rotateBytes`, the next writer moves its lines into a
///   gzip segment listed in `exec_status_<g>.segments.json` and empties it (see
///   `FileJournalStore+Rotation.swift`). Readers see one continuous text across segments and
///   the live file; they hold a shared lock while reading the live file, so they never see half
///   a rotation.
public final class FileJournalStore: JournalStore {
    public let directory: String
    let ops: any FileOps
    let logger: Logger
    /// Live journal size that triggers a rotation into a gzip segment.
    public let rotateBytes: Int64
    let handles = Mutex<[JournalRef: Handle]>([:])
    /// The running change streams (``changes(_:)``).
    let watches = Mutex(WatchTable())
    let lockClock = LockClock()
    /// The seq of each snapshot file this store last wrote or read, by file version: the check
    /// that a stored snapshot is not newer costs a `stat`, not a read and a parse, unless someone
    /// else replaced the file since.
    let snapshotSeqs = Mutex<[JournalRef: (FileVersion, Int)]>([:])

    /// How long this store's appends have waited for and held the journal's exclusive lock.
    public var exclusiveLockTimes: ExclusiveLockTimes { lockClock.times }

    /// Runs `body` holding this process's mutex for the journal and its exclusive `flock`,
    /// timed as `section` when given (an append's write or raise).
    func exclusively<T>(_ h: Handle, timing section: LockClock.Section? = nil, _ body: () throws -> T) throws -> T {
        try h.exclusive.withLock { _ in
            try lockClock.timed(section, lock: { try ops.flock(h.fd, LOCK_EX) }, unlock: { try? ops.flock(h.fd, LOCK_UN) }, body)
        }
    }

    /// The open descriptors of one journal. Their lifetime is this object's: they are closed in
    /// `deinit`, when the last user (the store's table, a reader, a writer holding the lock) lets
    /// go of it. ``poison(_:_:)`` only drops the table's reference, so a reader or a deferred
    /// unlock still using the handle keeps using these descriptors, never a number the system
    /// has meanwhile given to another file.
    final class Handle: Sendable {
        let ref: JournalRef
        let fd: Int32
        /// A second description of the same file: readers take `LOCK_SH` on it.
        let readFD: Int32
        /// The durable mark (``DurableMark``) and the journal file's inode it must name.
        let markFD: Int32
        let inode: UInt64
        let markReady = Atomic<Bool>(false)
        let path: String
        let ops: any FileOps
        let exclusive = Mutex<Void>(())
        let segments = Mutex<SegmentCache>(SegmentCache())
        init(ref: JournalRef, fd: Int32, readFD: Int32, markFD: Int32, inode: UInt64, path: String, ops: any FileOps) {
            self.ref = ref
            self.fd = fd
            self.readFD = readFD
            self.markFD = markFD
            self.inode = inode
            self.path = path
            self.ops = ops
        }
        deinit {
            ops.close(fd)
            ops.close(readFD)
            ops.close(markFD)
        }
    }

    /// The default rotation size: 5 MiB, or `LOGBOOK_ROTATE_BYTES` from the environment.
    public static var defaultRotateBytes: Int64 {
        if let v = getenv("LOGBOOK_ROTATE_BYTES").map({ String(cString: $0) }), let n = Int64(v), n > 0 { return n }
        return 5 << 20
    }

    public init(directory: String, ops: any FileOps = PosixFileOps(), logger: Logger = Logger(label: "logbook.file-store"),
                rotateBytes: Int64 = FileJournalStore.defaultRotateBytes) {
        self.directory = directory
        self.ops = ops
        self.logger = logger
        self.rotateBytes = rotateBytes
    }

    public func journalPath(_ ref: JournalRef) -> String { "\(directory)/exec_status_\(ref.g).journal" }
    public func snapshotPath(_ ref: JournalRef) -> String { "\(directory)/exec_status_\(ref.g).txt" }

    func handle(_ ref: JournalRef) throws(LogbookError) -> Handle {
        if let h = handles.withLock({ $0[ref] }) { return h }
        let path = journalPath(ref)
        let fd: Int32
        do throws(LogbookError) { fd = try ops.openRegular(path, O_RDWR | O_APPEND, 0) } catch where error.code == .notFound {
            throw LogbookError(.notFound, "plan \(ref.planID) has no status journal (\(Paths.fileName(of: path))); lock the plan first", plan: ref.planID)
        }
        do throws(LogbookError) {
            if let fs = NetworkFileSystem.name(ofType: try ops.fsType(fd)) {
                throw LogbookError(.unsupported, "\(path) is on a network file system (\(fs)); file locks and fdatasync are not reliable there. Keep the workspace on a local disk, or use the PostgreSQL backend for agents on several machines", plan: ref.planID)
            }
        } catch {
            ops.close(fd)
            throw error
        }
        let readFD: Int32
        do throws(LogbookError) { readFD = try ops.openRegular(path, O_RDONLY, 0) } catch {
            ops.close(fd)
            throw error
        }
        let markFD: Int32
        do throws(LogbookError) { markFD = try ops.openRegular(durableMarkPath(ref), O_RDWR | O_CREAT, 0o644) } catch {
            ops.close(fd)
            ops.close(readFD)
            throw error
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = osError("fstat", path)
            for d in [fd, readFD, markFD] { ops.close(d) }
            throw e
        }
        let fresh = Handle(ref: ref, fd: fd, readFD: readFD, markFD: markFD, inode: UInt64(st.st_ino), path: path, ops: ops)
        // A handle that lost the race is released here, closing its own descriptors.
        let h = handles.withLock { hs in
            if let existing = hs[ref] { return existing }
            hs[ref] = fresh
            return fresh
        }
        if !h.markReady.load(ordering: .acquiring) {
            do { try prepareMark(h) } catch {
                poison(ref, h)
                throw (error as? LogbookError) ?? LogbookError(.io, "\(Paths.fileName(of: path)): \(error)", plan: ref.planID)
            }
        }
        return h
    }

    /// Forgets a handle after a failed sync: the next use reopens and re-reads the file. Its
    /// descriptors close when the last task still using it is done (``Handle``'s `deinit`).
    func poison(_ ref: JournalRef, _ h: Handle) {
        handles.withLock { hs in if hs[ref] === h { hs[ref] = nil } }
    }

    public func createJournal(_ ref: JournalRef, genesis: [UInt8]) async throws {
        try await Blocking.run { [self] in
            try AtomicFile(ops: ops).create(journalPath(ref), genesis, mode: 0o644)
            _ = try handle(ref)
        }
    }

    public func journalExists(_ ref: JournalRef) async throws -> Bool {
        access(journalPath(ref), F_OK) == 0
    }

    public func read(_ ref: JournalRef, from cursor: Int64, limit: Int) async throws -> [JournalLine] {
        try await Blocking.run { [self] in try readDurable(ref, from: cursor, limit: limit) }
    }

    /// Durable lines from `cursor`: up to the durable mark, read under `LOCK_SH`.
    func readDurable(_ ref: JournalRef, from cursor: Int64, limit: Int) throws -> [JournalLine] {
        try shared(ref) { h, m, live in try lines(ref, h, m, from: cursor, limit: limit, liveSize: live.durable, base: live.base).lines }
    }

    /// The live file as a reader sees it: where it starts in the journal's text, its size, and
    /// how much of it is durable (up to the durable mark, at most its complete lines).
    struct LiveView {
        var base: Int64
        var size: Int64
        var durable: Int64
    }

    /// Runs `body` holding `LOCK_SH` on the journal, with the manifest and the live file's view:
    /// everything up to `durable` is durable (the mark is raised only after a sync succeeded).
    ///
    /// A handle whose mark no longer names its file (the journal was replaced under this process:
    /// a restore, a test, a rewrite by hand) is dropped, after the lock is released, and the
    /// journal opened afresh, which rebuilds the mark for the file now there.
    func shared<T>(_ ref: JournalRef, _ body: (Handle, SegmentManifest, LiveView) throws -> T) throws -> T {
        let h = try handle(ref)
        if let result = try sharedOnce(ref, h, requireMark: true, body) { return result }
        poison(ref, h)
        return try sharedOnce(ref, try handle(ref), requireMark: false, body)!
    }

    /// One ``shared(_:_:)`` pass; nil when `requireMark` and the mark is not this file's.
    private func sharedOnce<T>(_ ref: JournalRef, _ h: Handle, requireMark: Bool,
                               _ body: (Handle, SegmentManifest, LiveView) throws -> T) throws -> T? {
        try ops.flock(h.readFD, LOCK_SH)
        defer { try? ops.flock(h.readFD, LOCK_UN) }
        let mark = try readMark(h)
        if mark == nil, requireMark { return nil }
        let m = try manifest(ref, h)
        let size = try ops.size(h.fd)
        let base = m.liveBase(liveSize: size)
        let durable = min(try completeEnd(h, size: size), max(0, (mark?.end ?? 0) - base))
        return try body(h, m, LiveView(base: base, size: size, durable: durable))
    }

    /// Complete lines of the live file from `cursor` (an offset in the journal's text, where the
    /// live file starts at `base`); also the bytes of a trailing partial line.
    func readLines(_ h: Handle, from cursor: Int64, limit: Int, upTo end: Int64?, base: Int64 = 0) throws -> (lines: [JournalLine], partial: [UInt8]) {
        let size: Int64
        if let end { size = end } else { size = try ops.size(h.fd) }
        guard cursor >= base, cursor - base <= size else {
            throw LogbookError(.corrupt, "\(Paths.fileName(of: h.path)) is \(size) bytes after offset \(base), shorter than a position already read (\(cursor)): it was truncated")
        }
        var lines: [JournalLine] = []
        var at = cursor - base
        var splitter = LineSplitter()
        // No larger than what is there to read: a zeroed 4 MiB buffer per append cost more than the append.
        var chunk = [UInt8](repeating: 0, count: Int(min(Int64(max(64 * 1024, min(limit, 4 << 20))), size - at)))
        var total = 0
        while at < size, total < limit || lines.isEmpty {
            let want = Int(min(Int64(chunk.count), size - at))
            let n = try chunk.withUnsafeMutableBytes { buf in
                try ops.pread(h.fd, UnsafeMutableRawBufferPointer(rebasing: buf[0..<want]), at)
            }
            if n == 0 { break }
            // Stop after the line that reaches `limit`: a page holds about `limit` bytes, not a chunk's worth.
            if splitter.split(chunk[0..<n], at: base + at, into: &lines, total: &total, stopAt: limit) != nil { return (lines, []) }
            at += Int64(n)
        }
        return (lines, splitter.pending)
    }

    public func append(_ ref: JournalRef, from cursor: Int64,
                       _ build: @escaping @Sendable ([JournalLine]) throws -> [[UInt8]]) async throws -> Int64 {
        try await append(ref, from: cursor, marking: { newer, _ in MarkedLines(lines: try build(newer)) })
    }

    public func append(_ ref: JournalRef, from cursor: Int64,
                       marking build: @escaping @Sendable ([JournalLine], [UInt8]?) throws -> MarkedLines) async throws -> Int64 {
        let end = try await Blocking.run { [self] in try appendDurably(ref, from: cursor, build) }
        notifyWatchers(ref)
        return end
    }

    /// Writes under the lock, syncs outside it, then raises the durable mark (see the type's
    /// documentation); returns the end.
    func appendDurably(_ ref: JournalRef, from cursor: Int64, _ build: ([JournalLine], [UInt8]?) throws -> MarkedLines) throws -> Int64 {
        var h = try handle(ref)
        var found = try writeLocked(ref, h, from: cursor, requireMark: true, build)
        if found == nil {
            // The mark is not this handle's file's: the journal was replaced under this process.
            poison(ref, h)
            h = try handle(ref)
            found = try writeLocked(ref, h, from: cursor, requireMark: false, build)
        }
        let written = found!
        if written.end <= written.durable { return written.end }
        do throws(LogbookError) { try SyncTiming.timed { () throws(LogbookError) in try ops.fdatasync(h.fd) } } catch {
            // Never retried into a success (the kernel may have dropped the dirty pages): every
            // line past the durable mark is cut (none was acknowledged) and the generation moves
            // on, so no reader sees them and their writers report them as not done.
            cutToMark(ref, h, after: written.start, bytes: Int(written.end - written.start))
            throw LogbookError.indeterminate(Paths.fileName(of: h.path), error.message, plan: ref.planID)
        }
        try exclusively(h, timing: .raise) {
            let mark = try readMark(h) ?? DurableMark(generation: 0, end: 0)
            guard mark.generation == written.generation else {
                throw LogbookError.indeterminate(Paths.fileName(of: h.path), "another writer's sync failed after these events were written, and the journal was cut back to its durable end", plan: ref.planID)
            }
            if mark.end < written.end {
                do { try writeMark(h, DurableMark(generation: mark.generation, end: written.end)) } catch {
                    // The lines are durable but readers cannot see them yet: the next process to
                    // open the journal (or the next writer) raises the mark.
                    poison(ref, h)
                    throw LogbookError.indeterminate(Paths.fileName(of: h.path), "the events are durable but the durable mark could not be raised: \(error)", plan: ref.planID)
                }
            }
        }
        return written.end
    }

    /// What the locked part of an append wrote: where its lines start and end in the journal's
    /// text, and the mark's generation and end when it began.
    struct Written {
        var start: Int64
        var end: Int64
        var generation: UInt64
        var durable: Int64
    }

    /// The part of an append under the exclusive lock: fold, cut a torn tail, rotate, build,
    /// write. Nil (nothing done) when `requireMark` and the mark is not this handle's file's.
    private func writeLocked(_ ref: JournalRef, _ h: Handle, from cursor: Int64, requireMark: Bool,
                             _ build: ([JournalLine], [UInt8]?) throws -> MarkedLines) throws -> Written? {
        try exclusively(h, timing: .write) { () throws -> Written? in
            let found = try readMark(h)
            if found == nil, requireMark { return nil }
            let mark = found ?? DurableMark(generation: 0, end: 0)
            var m = try finishRotation(ref, h, try manifest(ref, h))
            var size = try ops.size(h.fd)
            let (newer, partial) = try lines(ref, h, m, from: cursor, limit: Int.max, liveSize: size)
            if !partial.isEmpty {
                size = try cutTornTail(h, partial: partial, size: size)
            }
            if size >= rotateBytes {
                m = try rotate(ref, h, m, liveSize: size)
                size = try ops.size(h.fd)
            }
            let base = m.liveBase(liveSize: size)
            // `build` first: the writer's own refusal (the plan is ARCHIVED) says more than ours.
            let checks = (try? readCheckMarks(h)) ?? []
            let marked = try build(newer, CheckMarkRing.newest(checks))
            let add = marked.lines
            // Nothing to write: what `build` folded must still be durable before the caller
            // keeps it (a line of a writer between its write and its sync), so it is synced below
            // unless the mark covers it already.
            if add.isEmpty { return Written(start: base + size, end: base + size, generation: mark.generation, durable: mark.end) }
            guard !m.sealed else {
                throw LogbookError(.locked, "the journal of \(ref) is sealed (the plan is archived); nothing was written", plan: ref.planID)
            }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(add.reduce(0) { $0 + $1.count })
            for l in add { bytes.append(contentsOf: l) }
            do throws(LogbookError) {
                try AtomicFile(ops: ops).writeAll(h.fd, bytes)
            } catch {
                // A short or failed write leaves a partial tail: cut it now, while we hold the lock.
                if (try? ops.ftruncate(h.fd, size)) == nil { poison(ref, h) }
                var e = error.on(h.path)
                e.message += "; the events were not written and nothing was acknowledged"
                throw e
            }
            if let mark = marked.checkMark { keepCheckMark(h, checks, mark: mark, end: base + size + Int64(bytes.count)) }
            // What this call folds but did not write may not be durable yet: the sync below covers
            // it too (one file), and a book keeps it only once that sync succeeded.
            return Written(start: base + size, end: base + size + Int64(bytes.count), generation: mark.generation, durable: mark.end)
        }
    }

    /// After a failed sync: cuts the live file back to the durable mark and moves the
    /// generation on, under the exclusive lock; the handle is dropped so the next call reopens
    /// and re-reads the file.
    func cutToMark(_ ref: JournalRef, _ h: Handle, after start: Int64, bytes: Int) {
        let cut = (try? exclusively(h) { () throws -> Bool in
            let mark = try readMark(h) ?? DurableMark(generation: 0, end: 0)
            let size = try ops.size(h.fd)
            let base = try manifest(ref, h).liveBase(liveSize: size)
            let keep = max(0, mark.end - base)
            if keep < size { try ops.ftruncate(h.fd, keep) }
            try writeMark(h, DurableMark(generation: mark.generation &+ 1, end: mark.end))
            dropCheckMarks(h, after: mark.end)
            return true
        }) ?? false
        poison(ref, h)
        if !cut {
            logger.critical("could not cut \(bytes) unsynced bytes at offset \(start) of \(Paths.fileName(of: h.path)) after a failed fdatasync; a later writer's sync may make them durable, but they were never acknowledged")
        }
    }

    /// Cuts a partial last line left by a writer that died mid-write; keeps a copy of it.
    func cutTornTail(_ h: Handle, partial: [UInt8], size: Int64) throws -> Int64 {
        let keep = size - Int64(partial.count)
        let ms = Int64(Double(time(nil)) * 1000)
        let copy = "\(h.path).torn-\(keep)-\(ms)"
        // The tail is cut only once its copy is safe: if the copy cannot be written, nothing is cut.
        do throws(LogbookError) { try AtomicFile(ops: ops).write(copy, partial, mode: 0o644) } catch {
            var e = error.on(copy)
            e.message = "could not keep a copy of the torn tail of \(Paths.fileName(of: h.path)) (\(partial.count) bytes at offset \(keep)) in \(Paths.fileName(of: copy)): \(error.message); the tail was not cut and nothing was written"
            throw e
        }
        do {
            try ops.ftruncate(h.fd, keep)
            try ops.fdatasync(h.fd)
        } catch { throw error.on(h.path) }
        logger.warning("recovered a torn tail: removed \(partial.count) bytes of an unacknowledged partial line at offset \(keep) of \(Paths.fileName(of: h.path)); a copy is in \(Paths.fileName(of: copy))")
        return keep
    }

    /// Cuts a torn tail now (the `recover` command) and syncs complete lines past the durable
    /// mark (a writer died between its write and its sync) so readers see them; returns the bytes
    /// cut (0 if none).
    public func recover(_ ref: JournalRef) throws -> Int {
        let h = try handle(ref)
        return try exclusively(h) { () throws -> Int in
            _ = try finishRotation(ref, h, try manifest(ref, h))
            let size = try ops.size(h.fd)
            let window = max(0, size - Int64(Event.maxGenesisLineBytes + 1))
            var (_, partial) = try readLines(h, from: window, limit: Int.max, upTo: size)
            if window > 0, Int64(partial.count) == size - window {
                // No newline in the window: garbage longer than any line (zeros after a power
                // loss, say). Cut from the last newline, wherever it is, not just the window.
                (_, partial) = try readLines(h, from: size - Int64(try tornTailBytes(ref)), limit: Int.max, upTo: size)
            }
            // `partial` is what follows the last newline (or the whole window if none): cut only that.
            let kept = partial.isEmpty ? size : try cutTornTail(h, partial: partial, size: size)
            // Complete lines past the durable mark (a writer died between its write and its sync)
            // are synced now and shown: recover leaves a journal whose every line readers see.
            try coverCompleteLines(h, upTo: try manifest(ref, h).liveBase(liveSize: kept) + kept)
            return partial.count
        }
    }

    /// Bytes after the last newline (a torn tail not yet cut), without taking the lock. Blocks
    /// the calling thread: async callers use ``findings(_:)`` (kind ``StoreFinding/Kind/tornTail``).
    public func tornTailBytes(_ ref: JournalRef) throws -> Int {
        let h = try handle(ref)
        let size = try ops.size(h.fd)
        return Int(size - (try completeEnd(h, size: size)))
    }

    public func loadSnapshot(_ ref: JournalRef) async throws -> [UInt8]? {
        try await Blocking.run { [self] in try loadSnapshotNow(ref) }
    }

    func loadSnapshotNow(_ ref: JournalRef) throws -> [UInt8]? {
        let path = snapshotPath(ref)
        let fd: Int32
        do throws(LogbookError) { fd = try ops.openRegular(path, O_RDONLY, 0) } catch where error.code == .notFound { return nil }
        defer { ops.close(fd) }
        return try readAll(fd)
    }

    /// A whole regular file, never read through a symbolic link; a missing one is `.notFound` naming it.
    func readWhole(_ path: String) throws -> [UInt8] {
        let fd = try ops.openRegular(path, O_RDONLY, 0)
        defer { ops.close(fd) }
        return try readAll(fd)
    }

    func readAll(_ fd: Int32) throws -> [UInt8] {
        try readRange(fd, from: 0, count: try ops.size(fd))
    }

    /// Up to `count` bytes from `offset` (fewer only at the end of the file).
    func readRange(_ fd: Int32, from offset: Int64, count: Int64) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(count))
        var at = 0
        while at < out.count {
            let n = try out.withUnsafeMutableBytes { b in
                try ops.pread(fd, UnsafeMutableRawBufferPointer(rebasing: b[at...]), offset + Int64(at))
            }
            if n == 0 { break }
            at += n
        }
        return Array(out[0..<at])
    }

    public func storeSnapshot(_ ref: JournalRef, _ bytes: [UInt8], seq: Int) async throws {
        try await storeSnapshot(ref, bytes, seq: seq, SnapshotWrite())
    }

    /// Replaces the snapshot atomically (temp file and rename), unless the stored one reflects a
    /// later seq. When not `durable` the temp file and the folder are not synced: after a power
    /// loss the file may be old, empty or torn, and the next reader or writer, which never trusts
    /// a snapshot it cannot prove (see `StatusBook`), rebuilds it from the journal.
    public func storeSnapshot(_ ref: JournalRef, _ bytes: [UInt8], seq: Int, _ write: SnapshotWrite) async throws {
        try await Blocking.run { [self] in try storeSnapshotNow(ref, bytes, seq: seq, write) }
    }

    func storeSnapshotNow(_ ref: JournalRef, _ bytes: [UInt8], seq: Int, _ write: SnapshotWrite) throws {
        let lockPath = "\(directory)/.exec_status_\(ref.g).snapshot.lock"
        let lfd = try ops.openRegular(lockPath, O_RDWR | O_CREAT, 0o644)
        defer { ops.close(lfd) }
        try ops.flock(lfd, LOCK_EX)
        defer { try? ops.flock(lfd, LOCK_UN) }
        if !write.replaceLater, let s = storedSnapshotSeq(ref), s > seq { return }
        try AtomicFile(ops: ops).write(snapshotPath(ref), bytes, mode: 0o644, durable: write.durable)
        if let v = try? FileVersion.of(snapshotPath(ref)) { snapshotSeqs.withLock { $0[ref] = (v, seq) } }
    }

    /// The journal seq the stored snapshot says it reflects (nil: none, or unreadable).
    func storedSnapshotSeq(_ ref: JournalRef) -> Int? {
        guard let v = try? FileVersion.of(snapshotPath(ref)) else { return nil }
        if let (known, seq) = snapshotSeqs.withLock({ $0[ref] }), known == v { return seq }
        guard let current = try? loadSnapshotNow(ref), let seq = SnapshotSeal.storedSeq(current) else { return nil }
        snapshotSeqs.withLock { $0[ref] = (v, seq) }
        return seq
    }
}
