import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Real system calls until the `crashAt`-th call that changes the disk; that call and every later
/// one fails without touching anything, as if the process died there. Reopening the workspace
/// with real calls then shows what a crash at that point leaves behind.
final class CrashAfterOps: FileOps {
    let real = PosixFileOps()
    let crashAt: Int
    private let count = Mutex(0)

    init(crashAt: Int) { self.crashAt = crashAt }

    /// Whether the crash point was reached (if not, the operation finished first).
    var crashed: Bool { count.withLock { $0 >= crashAt } }

    private func step(_ what: String) throws(LogbookError) {
        let n = count.withLock { c -> Int in c += 1; return c }
        if n >= crashAt { throw LogbookError(.io, "simulated crash at disk operation \(n) (\(what))") }
    }

    func open(_ path: String, _ flags: Int32, _ mode: mode_t) throws(LogbookError) -> Int32 {
        if flags & O_CREAT != 0 { try step("open+create \(path)") }
        return try real.open(path, flags, mode)
    }
    func close(_ fd: Int32) { real.close(fd) }
    func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(LogbookError) -> Int {
        try step("write")
        return try real.write(fd, bytes)
    }
    func pread(_ fd: Int32, _ into: UnsafeMutableRawBufferPointer, _ offset: Int64) throws(LogbookError) -> Int {
        try real.pread(fd, into, offset)
    }
    func fdatasync(_ fd: Int32) throws(LogbookError) {
        try step("fdatasync")
        try real.fdatasync(fd)
    }
    func fsync(_ fd: Int32) throws(LogbookError) {
        try step("fsync")
        try real.fsync(fd)
    }
    func ftruncate(_ fd: Int32, _ size: Int64) throws(LogbookError) {
        try step("ftruncate")
        try real.ftruncate(fd, size)
    }
    func size(_ fd: Int32) throws(LogbookError) -> Int64 { try real.size(fd) }
    func flock(_ fd: Int32, _ op: Int32) throws(LogbookError) { try real.flock(fd, op) }
    func rename(_ from: String, _ to: String) throws(LogbookError) {
        try step("rename \(from)")
        try real.rename(from, to)
    }
    func link(_ from: String, _ to: String) throws(LogbookError) {
        try step("link \(to)")
        try real.link(from, to)
    }
    func unlink(_ path: String) {
        if crashed { return }
        real.unlink(path)
    }
    func fsType(_ fd: Int32) throws(LogbookError) -> Int64 { try real.fsType(fd) }
}
