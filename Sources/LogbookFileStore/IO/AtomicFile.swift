#if canImport(Glibc)
import Glibc
#endif
import LogbookCore

/// Whole-file writes that are all-or-nothing: temp file, fsync, rename, fsync of the directory.
struct AtomicFile {
    let ops: any FileOps

    /// Replaces (or creates) `path` with `bytes`. With `durable` false (for caches that are
    /// rebuilt when damaged) neither the temp file nor the folder is synced: the rename is still
    /// atomic for every reader, but after a power loss the file may be old, empty or torn.
    func write(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644, durable: Bool = true) throws(LogbookError) {
        let tmp = try writeTemp(near: path, bytes, mode: mode, sync: durable)
        do throws(LogbookError) {
            try ops.rename(tmp, path)
        } catch {
            ops.unlink(tmp)
            throw error.on(path)
        }
        if durable { try syncDirectory(of: path) }
    }

    /// Creates `path` with `bytes`; fails with `.alreadyExists` if it exists (never clobbers).
    func create(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws(LogbookError) {
        let tmp = try writeTemp(near: path, bytes, mode: mode)
        defer { ops.unlink(tmp) }
        try ops.link(tmp, path)
        try syncDirectory(of: path)
    }

    func writeTemp(near path: String, _ bytes: [UInt8], mode: mode_t, sync: Bool = true) throws(LogbookError) -> String {
        let dir = Paths.directory(of: path)
        let tmp = dir + "/.tmp-" + Paths.fileName(of: path) + "-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd: Int32
        do throws(LogbookError) { fd = try ops.open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode) } catch { throw error.on(path) }
        do throws(LogbookError) {
            try writeAll(fd, bytes)
            if sync { try ops.fsync(fd) }
            ops.close(fd)
        } catch {
            ops.close(fd)
            ops.unlink(tmp)
            throw error.on(path)
        }
        return tmp
    }

    func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(LogbookError) {
        var done = 0
        var failure: LogbookError?
        bytes.withUnsafeBytes { buf in
            while done < buf.count {
                do throws(LogbookError) {
                    let n = try ops.write(fd, UnsafeRawBufferPointer(rebasing: buf[done...]))
                    if n == 0 { failure = LogbookError(.io, "write made no progress"); return }
                    done += n
                } catch {
                    failure = error
                    return
                }
            }
        }
        if let failure { throw failure }
    }

    func syncDirectory(of path: String) throws(LogbookError) {
        let fd = try ops.open(Paths.directory(of: path), O_RDONLY | O_DIRECTORY, 0)
        defer { ops.close(fd) }
        do { try ops.fsync(fd) } catch { throw error.named("the folder of \(Paths.fileName(of: path))") }
    }
}

extension LogbookError {
    /// The same I/O error, naming the file it happened on (calls on a descriptor only know its number).
    func on(_ path: String) -> LogbookError { named(Paths.fileName(of: path)) }

    func named(_ what: String) -> LogbookError {
        guard code == .io else { return self }
        var e = self
        e.message = "\(what): \(message)"
        return e
    }
}

enum Paths {
    static func directory(of path: String) -> String {
        guard let i = path.lastIndex(of: "/") else { return "." }
        return i == path.startIndex ? "/" : String(path[..<i])
    }

    static func fileName(of path: String) -> String {
        guard let i = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: i)...])
    }
}
