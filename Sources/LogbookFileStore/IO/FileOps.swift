#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CLogbookShims
import LogbookCore

/// The system calls the file store makes, behind one seam so tests can inject faults at the
/// Nth operation (ENOSPC, EIO, short writes, crashes), as SQLite's test VFS does.
public protocol FileOps: Sendable {
    func open(_ path: String, _ flags: Int32, _ mode: mode_t) throws(LogbookError) -> Int32
    func close(_ fd: Int32)
    /// Writes some of `bytes` at the end (O_APPEND) or at the current offset; returns the count.
    func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(LogbookError) -> Int
    func pread(_ fd: Int32, _ into: UnsafeMutableRawBufferPointer, _ offset: Int64) throws(LogbookError) -> Int
    func fdatasync(_ fd: Int32) throws(LogbookError)
    func fsync(_ fd: Int32) throws(LogbookError)
    func ftruncate(_ fd: Int32, _ size: Int64) throws(LogbookError)
    func size(_ fd: Int32) throws(LogbookError) -> Int64
    func flock(_ fd: Int32, _ op: Int32) throws(LogbookError)
    func rename(_ from: String, _ to: String) throws(LogbookError)
    func link(_ from: String, _ to: String) throws(LogbookError)
    func unlink(_ path: String)
    /// The file system type magic (statfs f_type) of the file system holding `fd`.
    func fsType(_ fd: Int32) throws(LogbookError) -> Int64
    /// Sets a file's permission bits (archive makes status files read-only).
    func chmod(_ path: String, _ mode: mode_t) throws(LogbookError)
    /// Writes all of `bytes` at `offset` (the durable mark, a fixed 32-byte record).
    func pwriteAll(_ fd: Int32, _ bytes: [UInt8], _ offset: Int64) throws(LogbookError)
}

extension FileOps {
    public func pwriteAll(_ fd: Int32, _ bytes: [UInt8], _ offset: Int64) throws(LogbookError) {
        var at = 0
        while at < bytes.count {
            let n = bytes.withUnsafeBytes { b in Glibc.pwrite(fd, b.baseAddress! + at, b.count - at, off_t(offset) + off_t(at)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw osError("pwrite", "fd \(fd)")
            }
            at += n
        }
    }
}

extension FileOps {
    public func chmod(_ path: String, _ mode: mode_t) throws(LogbookError) {
        guard Glibc.chmod(path, mode) == 0 else { throw osError("chmod", path) }
    }
}

extension LogbookError {
    /// An error from the operating system, naming the call and the path (public for fault injectors).
    public static func os(_ call: String, _ path: String, errno err: Int32) -> LogbookError {
        osError(call, path, err)
    }
}

/// Errors from the operating system, with the path and the call that failed.
func osError(_ call: String, _ path: String, _ err: Int32 = errno) -> LogbookError {
    let what = String(cString: strerror(err))
    let hint: String
    switch err {
    case ENOSPC: hint = " (the disk is full)"
    case EIO: hint = " (an I/O error)"
    case EACCES, EPERM: hint = " (permission denied)"
    case EROFS: hint = " (read-only file system)"
    default: hint = ""
    }
    return LogbookError(.io, "\(call) \(path): \(what)\(hint)")
}

extension FileOps {
    /// Opens a file the store owns (journal, segment, manifest, snapshot, lock, checkpoint, key):
    /// never through a symbolic link (`O_NOFOLLOW`), and only if it is a regular file (a FIFO is
    /// opened non-blocking, so that it is refused rather than waited on).
    ///
    /// - Throws: `.corrupt` naming the file if it is a symbolic link, a folder, a FIFO or another
    ///   kind of file; the open's own error otherwise.
    public func openRegular(_ path: String, _ flags: Int32, _ mode: mode_t = 0) throws(LogbookError) -> Int32 {
        let fd = try open(path, flags | O_NOFOLLOW | O_NONBLOCK, mode)
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = osError("fstat", path)
            close(fd)
            throw e
        }
        guard st.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw LogbookError(.corrupt, "\(path) is \(FileKind.name(st.st_mode)), not a regular file; refusing to use it (nothing was written)")
        }
        return fd
    }
}

enum FileKind {
    static func name(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "a folder"
        case S_IFIFO: return "a FIFO"
        case S_IFLNK: return "a symbolic link"
        case S_IFSOCK: return "a socket"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        default: return "not a regular file"
        }
    }
}

/// The real system calls.
public struct PosixFileOps: FileOps {
    public init() {}

    public func open(_ path: String, _ flags: Int32, _ mode: mode_t) throws(LogbookError) -> Int32 {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno == EINTR { continue }
            if errno == ENOENT { throw LogbookError(.notFound, "\(path) does not exist") }
            if errno == EEXIST { throw LogbookError(.alreadyExists, "\(path) already exists") }
            if errno == EISDIR, flags & O_NOFOLLOW != 0 {
                throw LogbookError(.corrupt, "\(path) is a folder, not a regular file; refusing to use it (nothing was written)")
            }
            if errno == ELOOP, flags & O_NOFOLLOW != 0 {
                throw LogbookError(.corrupt, "\(path) is a symbolic link; Logbook opens its files only directly and refuses to follow it (nothing was written)")
            }
            throw osError("open", path)
        }
    }

    public func close(_ fd: Int32) { _ = Glibc.close(fd) }

    public func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(LogbookError) -> Int {
        while true {
            let n = Glibc.write(fd, bytes.baseAddress, bytes.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw osError("write", "fd \(fd)")
        }
    }

    public func pread(_ fd: Int32, _ into: UnsafeMutableRawBufferPointer, _ offset: Int64) throws(LogbookError) -> Int {
        while true {
            let n = Glibc.pread(fd, into.baseAddress, into.count, off_t(offset))
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw osError("read", "fd \(fd)")
        }
    }

    public func fdatasync(_ fd: Int32) throws(LogbookError) {
        while Glibc.fdatasync(fd) != 0 {
            if errno == EINTR { continue }
            throw osError("fdatasync", "fd \(fd)")
        }
    }

    public func fsync(_ fd: Int32) throws(LogbookError) {
        while Glibc.fsync(fd) != 0 {
            if errno == EINTR { continue }
            throw osError("fsync", "fd \(fd)")
        }
    }

    public func ftruncate(_ fd: Int32, _ size: Int64) throws(LogbookError) {
        while Glibc.ftruncate(fd, off_t(size)) != 0 {
            if errno == EINTR { continue }
            throw osError("ftruncate", "fd \(fd)")
        }
    }

    public func size(_ fd: Int32) throws(LogbookError) -> Int64 {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw osError("fstat", "fd \(fd)") }
        return Int64(st.st_size)
    }

    public func flock(_ fd: Int32, _ op: Int32) throws(LogbookError) {
        while clogbook_flock(fd, op) != 0 {
            if errno == EINTR { continue }
            if errno == EWOULDBLOCK { throw LogbookError(.conflict, "the lock is held by another process") }
            throw osError("flock", "fd \(fd)")
        }
    }

    public func rename(_ from: String, _ to: String) throws(LogbookError) {
        guard Glibc.rename(from, to) == 0 else { throw osError("rename", "\(from) → \(to)") }
    }

    public func link(_ from: String, _ to: String) throws(LogbookError) {
        guard Glibc.link(from, to) == 0 else {
            if errno == EEXIST { throw LogbookError(.alreadyExists, "\(to) already exists") }
            throw osError("link", "\(from) → \(to)")
        }
    }

    public func unlink(_ path: String) { _ = Glibc.unlink(path) }

    public func fsType(_ fd: Int32) throws(LogbookError) -> Int64 {
        let t = clogbook_fs_type(fd)
        guard t != -1 else { throw osError("fstatfs", "fd \(fd)") }
        return t
    }
}
