#if canImport(Glibc)
import Glibc
#endif
import LogbookCore
import LogbookEngine
import Synchronization

/// An exclusive lock over one lock file (`.workspace.lock`, `.exec_status_<g>.checkpoint.lock`):
/// tasks of this process queue for it on an ``AsyncMutex`` (suspended, not blocking a thread),
/// then the one at the front takes `flock(LOCK_EX)` on the file, which excludes every other
/// process.
///
/// Not reentrant: a task that already holds it and asks again gets `.conflict` instead of
/// waiting for itself forever. Acts that need the lock internally (the catalog's
/// compare-and-swap of `state.txt`, `install`) check ``isHeldByCurrentTask`` and skip taking it.
final class FileLock: Sendable {
    let path: String
    private let mutex: AsyncMutex

    private init(path: String) {
        self.path = path
        self.mutex = AsyncMutex(name: Paths.fileName(of: path))
    }

    private static let registry = Mutex<[String: FileLock]>([:])

    /// The one lock of `path` in this process.
    static func named(_ path: String) -> FileLock {
        registry.withLock { r in
            if let l = r[path] { return l }
            let l = FileLock(path: path)
            r[path] = l
            return l
        }
    }

    var isHeldByCurrentTask: Bool { mutex.isHeldByCurrentTask }

    /// Runs `body` holding the lock.
    ///
    /// - Throws: `.conflict` when this task holds it already (not reentrant); the open's or
    ///   flock's error naming the lock file.
    func withLock<T>(ops: any FileOps, _ body: () async throws -> T) async throws -> T {
        try await mutex.withLock {
            let fd = try ops.openRegular(path, O_RDWR | O_CREAT, 0o644)
            defer { ops.close(fd) }
            do { try ops.flock(fd, LOCK_EX) } catch let e as LogbookError { throw e.on(path) }
            defer { try? ops.flock(fd, LOCK_UN) }
            return try await body()
        }
    }
}

extension FileOps {
    /// A whole regular file of the catalog or artifact store, never read through a symbolic
    /// link; a missing one is `.notFound` naming it.
    func readCatalogFile(_ path: String) throws -> [UInt8] {
        let fd = try openRegular(path, O_RDONLY, 0)
        defer { close(fd) }
        return try readCatalogFile(fd: fd, path: path)
    }

    /// The whole content of an open file.
    func readCatalogFile(fd: Int32, path: String) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(try size(fd)))
        var at = 0
        while at < out.count {
            let n: Int
            do {
                n = try out.withUnsafeMutableBytes { b in
                    try pread(fd, UnsafeMutableRawBufferPointer(rebasing: b[at...]), Int64(at))
                }
            } catch let e as LogbookError { throw e.on(path) }
            if n == 0 { break }
            at += n
        }
        return Array(out[0..<at])
    }
}
