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
/// - Durability: the lines are written and `fdatasync`ed under the lock; the call returns only
///   after the sync succeeded. ``StatusBook`` batches the events of one process into one append
///   (group commit).
/// - Durable reads: readers take `LOCK_SH` on a second descriptor while they read the size and
///   the lines, so they wait for a writer's write + sync and never see a line whose sync has not
///   completed; a line whose sync failed is cut under the lock before anyone can read it.
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

    /// The open descriptors of one journal. Their lifetime is this object's: they are closed in
    /// `deinit`, when the last user (the store's table, a reader, a writer holding the lock) lets
    /// go of it. ``poison(_:_:)`` only drops the table's reference, so a reader or a deferred
    /// unlock still using the handle keeps using these descriptors, never a number the system
    /// has meanwhile given to another file.
    final class Handle: Sendable {
        let fd: Int32
        /// A second description of the same file: readers take `LOCK_SH` on it.
        let readFD: Int32
        let path: String
        let ops: any FileOps
        let exclusive = Mutex<Void>(())
        let segments = Mutex<SegmentCache>(SegmentCache())
        init(fd: Int32, readFD: Int32, path: String, ops: any FileOps) {
            self.fd = fd
            self.readFD = readFD
            self.path = path
            self.ops = ops
        }
        deinit {
            ops.close(fd)
            ops.close(readFD)
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
        let h = Handle(fd: fd, readFD: readFD, path: path, ops: ops)
        // A handle that lost the race is released here, closing its own descriptors.
        return handles.withLock { hs in
            if let existing = hs[ref] { return existing }
            hs[ref] = h
            return h
        }
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

    /// Durable lines from `cursor`: under `LOCK_SH`, so no writer is between its write and its sync.
    func readDurable(_ ref: JournalRef, from cursor: Int64, limit: Int) throws -> [JournalLine] {
        try shared(ref) { h, m, size in try lines(ref, h, m, from: cursor, limit: limit, liveSize: size).lines }
    }

    /// Runs `body` holding `LOCK_SH` on the journal, with the manifest and the live file's size:
    /// everything up to that size is durable (writers hold `LOCK_EX` across write and sync).
    func shared<T>(_ ref: JournalRef, _ body: (Handle, SegmentManifest, Int64) throws -> T) throws -> T {
        let h = try handle(ref)
        try ops.flock(h.readFD, LOCK_SH)
        defer { try? ops.flock(h.readFD, LOCK_UN) }
        return try body(h, try manifest(ref, h), try ops.size(h.fd))
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
        let end = try await Blocking.run { [self] in try appendDurably(ref, from: cursor, build) }
        notifyWatchers(ref)
        return end
    }

    /// Writes and syncs under the lock (see the type's documentation); returns the end.
    func appendDurably(_ ref: JournalRef, from cursor: Int64, _ build: ([JournalLine]) throws -> [[UInt8]]) throws -> Int64 {
        let h = try handle(ref)
        return try h.exclusive.withLock { _ in
            try ops.flock(h.fd, LOCK_EX)
            defer { try? ops.flock(h.fd, LOCK_UN) }
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
            let add = try build(newer)
            if add.isEmpty { return base + size }
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
            do throws(LogbookError) { try ops.fdatasync(h.fd) } catch {
                // Never retried into a success (the kernel may have dropped the dirty pages). The
                // bytes are cut before the lock is released, so no reader ever sees them; the
                // handle is dropped so the next call reopens and re-reads the file.
                let cut = (try? ops.ftruncate(h.fd, size)) != nil
                poison(ref, h)
                if !cut {
                    logger.critical("could not cut \(bytes.count) unsynced bytes at offset \(size) of \(Paths.fileName(of: h.path)) after a failed fdatasync; a reader may see those events, which a crash can still lose")
                }
                throw LogbookError.indeterminate(Paths.fileName(of: h.path), error.message, plan: ref.planID)
            }
            return base + size + Int64(bytes.count)
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

    /// Cuts a torn tail now (the `recover` command); returns the bytes removed (0 if none).
    public func recover(_ ref: JournalRef) throws -> Int {
        let h = try handle(ref)
        return try h.exclusive.withLock { _ throws -> Int in
            try ops.flock(h.fd, LOCK_EX)
            defer { try? ops.flock(h.fd, LOCK_UN) }
            _ = try finishRotation(ref, h, try manifest(ref, h))
            let size = try ops.size(h.fd)
            let window = max(0, size - Int64(Event.maxGenesisLineBytes + 1))
            var (_, partial) = try readLines(h, from: window, limit: Int.max, upTo: size)
            if window > 0, Int64(partial.count) == size - window {
                // No newline in the window: garbage longer than any line (zeros after a power
                // loss, say). Cut from the last newline, wherever it is, not just the window.
                (_, partial) = try readLines(h, from: size - Int64(try tornTailBytes(ref)), limit: Int.max, upTo: size)
            }
            guard !partial.isEmpty else { return 0 }
            // `partial` is what follows the last newline (or the whole window if none): cut only that.
            _ = try cutTornTail(h, partial: partial, size: size)
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
        if !write.replaceLater, let current = try? loadSnapshotNow(ref), let s = SnapshotSeal.storedSeq(current), s > seq {
            return
        }
        try AtomicFile(ops: ops).write(snapshotPath(ref), bytes, mode: 0o644, durable: write.durable)
    }
}
