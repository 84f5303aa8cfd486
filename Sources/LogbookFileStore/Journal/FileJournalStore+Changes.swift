#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LogbookCore
import Synchronization

/// The change stream of a file journal: one thread per subscriber waits on an inotify watch of
/// the journal file (falling back to polling where inotify is not available) and on a wake pipe,
/// and yields the durable head whenever it moved. A write by this process pokes the pipe at
/// once; one by another process wakes inotify (`IN_MODIFY` fires at the write, and the head is
/// read under `LOCK_SH`, so after that writer's sync).
extension FileJournalStore {
    public func changes(_ ref: JournalRef) -> AsyncStream<JournalHead> {
        let (stream, continuation) = AsyncStream<JournalHead>.makeStream(bufferingPolicy: .bufferingNewest(1))
        _ = try? handle(ref)  // creates the durable mark, so it can be watched
        guard access(journalPath(ref), F_OK) == 0, let watch = JournalWatch(paths: [journalPath(ref), durableMarkPath(ref)]) else {
            continuation.finish()
            return stream
        }
        let id = watches.withLock { w -> Int in
            w.next += 1
            w.byRef[ref, default: [:]][w.next] = watch
            w.open += 1
            return w.next
        }
        continuation.onTermination = { [weak self] _ in
            watch.stop()
            self?.watches.withLock { w in _ = w.byRef[ref]?.removeValue(forKey: id) }
        }
        let thread = Thread { [self] in
            watch.run(poll: { try? self.headNow(ref) }, yield: { continuation.yield($0) })
            continuation.finish()
            watches.withLock { $0.open -= 1 }
        }
        thread.name = "logbook.changes \(ref.statusID)"
        thread.start()
        return stream
    }

    /// Change streams whose thread is still running (each holds an inotify descriptor and a pipe).
    public var openChangeStreams: Int { watches.withLock { $0.open } }

    /// Wakes this process's change streams of `ref` after an append.
    func notifyWatchers(_ ref: JournalRef) {
        let list = watches.withLock { w in w.byRef[ref].map { Array($0.values) } ?? [] }
        for w in list { w.poke() }
    }
}

/// The subscribers of one store, by journal.
struct WatchTable: Sendable {
    var byRef: [JournalRef: [Int: JournalWatch]] = [:]
    var next = 0
    var open = 0
}

/// The descriptors of one change stream: an inotify instance watching the journal file (or -1:
/// polling) and a non-blocking pipe that wakes the thread (a local append, or the end).
final class JournalWatch: Sendable {
    let inotifyFD: Int32
    let wakeRead: Int32
    let wakeWrite: Int32
    let stopped = Atomic<Bool>(false)
    /// How often the head is re-read without an event: a safety net with inotify, the only
    /// signal without it.
    static let pollMilliseconds: (inotify: Int32, polling: Int32) = (1000, 50)

    /// Watches every one of `paths` (the journal and its durable mark: a line becomes visible
    /// when the mark moves, after the write).
    init?(paths: [String]) {
        var p: [Int32] = [-1, -1]
        guard pipe(&p) == 0 else { return nil }
        for fd in p {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        wakeRead = p[0]
        wakeWrite = p[1]
        var fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        for path in paths where fd >= 0 {
            if inotify_add_watch(fd, path, UInt32(IN_MODIFY) | UInt32(IN_ATTRIB) | UInt32(IN_CLOSE_WRITE)) < 0 {
                close(fd)
                fd = -1
            }
        }
        inotifyFD = fd
    }

    func poke() {
        var b: UInt8 = 1
        _ = write(wakeWrite, &b, 1)
    }

    func stop() {
        stopped.store(true, ordering: .sequentiallyConsistent)
        poke()
    }

    /// Yields the head now and each time it changes, until ``stop()``; then closes every descriptor.
    func run(poll read: () -> JournalHead?, yield: (JournalHead) -> Void) {
        defer {
            if inotifyFD >= 0 { close(inotifyFD) }
            close(wakeRead)
            close(wakeWrite)
        }
        var last: JournalHead?
        func check() {
            guard let head = read(), head != last else { return }
            last = head
            yield(head)
        }
        check()
        var drain = [UInt8](repeating: 0, count: 4096)
        while !stopped.load(ordering: .sequentiallyConsistent) {
            var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            if inotifyFD >= 0 { fds.append(pollfd(fd: inotifyFD, events: Int16(POLLIN), revents: 0)) }
            let timeout = inotifyFD >= 0 ? Self.pollMilliseconds.inotify : Self.pollMilliseconds.polling
            if Glibc.poll(&fds, nfds_t(fds.count), timeout) < 0, errno != EINTR { break }
            for f in fds where f.revents != 0 {
                while drain.withUnsafeMutableBytes({ Glibc.read(f.fd, $0.baseAddress, $0.count) }) > 0 {}
            }
            if stopped.load(ordering: .sequentiallyConsistent) { break }
            check()
        }
    }
}
