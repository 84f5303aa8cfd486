import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Real system calls with faults injected on demand (SQLite test-VFS style).
final class FaultyFileOps: FileOps {
    enum Op: String, Sendable { case open, write, fdatasync, fsync, ftruncate, rename, link, flock }
    enum Fault: Sendable {
        case errno(Int32)
        /// Write only this many bytes, then report success for them.
        case shortWrite(Int)
    }

    let real = PosixFileOps()
    private let plan = Mutex<[(op: Op, countdown: Int, fault: Fault)]>([])
    let fsTypeOverride = Mutex<Int64?>(nil)
    let calls = Mutex<[Op: Int]>([:])

    /// Injects `fault` on the `nth` next call (1 = the next one) of `op`.
    func inject(_ op: Op, nth: Int = 1, _ fault: Fault) {
        plan.withLock { $0.append((op, nth, fault)) }
    }

    private func take(_ op: Op) -> Fault? {
        calls.withLock { $0[op, default: 0] += 1 }
        return plan.withLock { p -> Fault? in
            guard let i = p.firstIndex(where: { $0.op == op }) else { return nil }
            p[i].countdown -= 1
            if p[i].countdown == 0 { return p.remove(at: i).fault }
            return nil
        }
    }

    private func fail(_ op: Op, _ e: Int32) -> LogbookError {
        LogbookError.os(op.rawValue, "(injected)", errno: e)
    }

    func open(_ path: String, _ flags: Int32, _ mode: mode_t) throws(LogbookError) -> Int32 {
        if case .errno(let e)? = take(.open) { throw fail(.open, e) }
        return try real.open(path, flags, mode)
    }
    func close(_ fd: Int32) { real.close(fd) }
    func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(LogbookError) -> Int {
        switch take(.write) {
        case .errno(let e)?: throw fail(.write, e)
        case .shortWrite(let n)?: return try real.write(fd, UnsafeRawBufferPointer(rebasing: bytes[0..<min(n, bytes.count)]))
        case nil: return try real.write(fd, bytes)
        }
    }
    func pread(_ fd: Int32, _ into: UnsafeMutableRawBufferPointer, _ offset: Int64) throws(LogbookError) -> Int {
        try real.pread(fd, into, offset)
    }
    func fdatasync(_ fd: Int32) throws(LogbookError) {
        if case .errno(let e)? = take(.fdatasync) { throw fail(.fdatasync, e) }
        try real.fdatasync(fd)
    }
    func fsync(_ fd: Int32) throws(LogbookError) {
        if case .errno(let e)? = take(.fsync) { throw fail(.fsync, e) }
        try real.fsync(fd)
    }
    func ftruncate(_ fd: Int32, _ size: Int64) throws(LogbookError) {
        if case .errno(let e)? = take(.ftruncate) { throw fail(.ftruncate, e) }
        try real.ftruncate(fd, size)
    }
    func size(_ fd: Int32) throws(LogbookError) -> Int64 { try real.size(fd) }
    func flock(_ fd: Int32, _ op: Int32) throws(LogbookError) {
        if case .errno(let e)? = take(.flock) { throw fail(.flock, e) }
        try real.flock(fd, op)
    }
    func rename(_ from: String, _ to: String) throws(LogbookError) {
        if case .errno(let e)? = take(.rename) { throw fail(.rename, e) }
        try real.rename(from, to)
    }
    func link(_ from: String, _ to: String) throws(LogbookError) {
        if case .errno(let e)? = take(.link) { throw fail(.link, e) }
        try real.link(from, to)
    }
    func unlink(_ path: String) { real.unlink(path) }
    func fsType(_ fd: Int32) throws(LogbookError) -> Int64 {
        if let t = fsTypeOverride.withLock({ $0 }) { return t }
        return try real.fsType(fd)
    }
}
