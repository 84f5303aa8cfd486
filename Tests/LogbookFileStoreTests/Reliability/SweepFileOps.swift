import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Real system calls with one fault armed at the Nth operation of a kind (SQLite test-VFS style).
///
/// - `enospc`, `eioWrite`, `shortWrite`: the Nth `write` fails with ENOSPC / EIO, or writes only
///   part of its bytes and reports that count (the caller must loop).
/// - `eioSync`: the Nth `fdatasync` or `fsync` fails with EIO (the data may or may not be on disk).
/// - `crash`: the Nth operation of any kind does not happen (a `write` writes a prefix of its
///   bytes first) and the "process" is dead: every later call fails, except `close` and
///   `flock(LOCK_UN)`, which the kernel does for a process that dies. The test then reopens
///   the workspace with real system calls, as a new process would.
final class SweepFileOps: FileOps {
    enum Kind: String, CaseIterable, Sendable {
        case enospc = "ENOSPC on write"
        case eioWrite = "EIO on write"
        case eioSync = "EIO on fdatasync/fsync"
        case shortWrite = "short write"
        case crash = "crash"
        /// A crash, and then the power fails: what was written but never synced is lost (each
        /// file written cut back to its size at its last sync, the pessimistic prefix model).
        case powerLoss = "power loss"
    }

    let real = PosixFileOps()
    let kind: Kind
    let n: Int
    private struct State {
        var armed = false
        var count = 0
        var fired = false
        var crashed = false
        var ops: [String] = []
        var paths: [Int32: String] = [:]
        var sizeBefore: [String: Int64] = [:]
        var durable: [String: Int64] = [:]
    }
    private let state = Mutex(State())

    init(kind: Kind, n: Int) {
        self.kind = kind
        self.n = n
    }

    /// Starts counting operations (setup before this call runs without faults).
    func arm() { state.withLock { $0.armed = true } }
    var fired: Bool { state.withLock { $0.fired } }
    var crashed: Bool { state.withLock { $0.crashed } }
    /// The operations seen while armed, in order (for failure messages).
    var trace: [String] { state.withLock { $0.ops } }

    private func counts(_ op: String) -> Bool {
        switch kind {
        case .enospc, .eioWrite, .shortWrite: return op == "write"
        case .eioSync: return op == "fdatasync" || op == "fsync"
        case .crash, .powerLoss: return true
        }
    }

    /// Whether this call is the one that faults; throws if the process already crashed.
    private func step(_ op: String) throws(LogbookError) -> Bool {
        let r: Result<Bool, LogbookError> = state.withLock { s in
            if s.crashed { return .failure(LogbookError(.io, "\(op): the process crashed (simulated)")) }
            guard s.armed, !s.fired else { return .success(false) }
            s.ops.append(op)
            guard counts(op) else { return .success(false) }
            s.count += 1
            guard s.count == n else { return .success(false) }
            s.fired = true
            if kind == .crash || kind == .powerLoss { s.crashed = true }
            return .success(true)
        }
        return try r.get()
    }

    private func crashError(_ op: String) -> LogbookError { LogbookError(.io, "\(op): the process crashed (simulated)") }

    func open(_ path: String, _ flags: Int32, _ mode: mode_t) throws(LogbookError) -> Int32 {
        if try step("open") { throw crashError("open") }
        let fd = try real.open(path, flags, mode)
        state.withLock { $0.paths[fd] = path }
        return fd
    }
    func close(_ fd: Int32) { real.close(fd) }
    func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(LogbookError) -> Int {
        if let path = state.withLock({ $0.armed && !$0.crashed ? $0.paths[fd] : nil }), let size = try? real.size(fd) {
            state.withLock { s in if s.sizeBefore[path] == nil { s.sizeBefore[path] = size } }
        }
        guard try step("write") else { return try real.write(fd, bytes) }
        switch kind {
        case .enospc: throw LogbookError.os("write", "fd \(fd)", errno: ENOSPC)
        case .eioWrite: throw LogbookError.os("write", "fd \(fd)", errno: EIO)
        case .shortWrite, .crash, .powerLoss:
            // A prefix reaches the file: half of it (at least one byte when there is more than one).
            let part = bytes.count > 1 ? max(1, bytes.count / 2) : 0
            let written = part > 0 ? try real.write(fd, UnsafeRawBufferPointer(rebasing: bytes[0..<part])) : 0
            if kind != .shortWrite { throw crashError("write") }
            return written
        case .eioSync: return try real.write(fd, bytes)
        }
    }
    func pread(_ fd: Int32, _ into: UnsafeMutableRawBufferPointer, _ offset: Int64) throws(LogbookError) -> Int {
        if try step("pread") { throw crashError("pread") }
        return try real.pread(fd, into, offset)
    }
    func fdatasync(_ fd: Int32) throws(LogbookError) {
        if try step("fdatasync") {
            if kind != .eioSync { throw crashError("fdatasync") }
            throw LogbookError.os("fdatasync", "fd \(fd)", errno: EIO)
        }
        try real.fdatasync(fd)
        synced(fd)
    }
    func fsync(_ fd: Int32) throws(LogbookError) {
        if try step("fsync") {
            if kind != .eioSync { throw crashError("fsync") }
            throw LogbookError.os("fsync", "fd \(fd)", errno: EIO)
        }
        try real.fsync(fd)
        synced(fd)
    }
    private func synced(_ fd: Int32) {
        guard let path = state.withLock({ $0.paths[fd] }), let size = try? real.size(fd) else { return }
        state.withLock { $0.durable[path] = size }
    }

    /// For a power loss: each file written while armed and the size it keeps (its size at its
    /// last sync, else before the first write).
    var durableSizes: [(path: String, size: Int64)] {
        state.withLock { s in s.sizeBefore.map { ($0.key, s.durable[$0.key] ?? $0.value) } }
    }

    func ftruncate(_ fd: Int32, _ size: Int64) throws(LogbookError) {
        if try step("ftruncate") { throw crashError("ftruncate") }
        try real.ftruncate(fd, size)
    }
    func size(_ fd: Int32) throws(LogbookError) -> Int64 {
        if try step("fstat") { throw crashError("fstat") }
        return try real.size(fd)
    }
    func flock(_ fd: Int32, _ op: Int32) throws(LogbookError) {
        // The kernel releases a dead process's locks: unlocking always goes through.
        if op & LOCK_UN != 0 { return try real.flock(fd, op) }
        if try step("flock") { throw crashError("flock") }
        try real.flock(fd, op)
    }
    func rename(_ from: String, _ to: String) throws(LogbookError) {
        if try step("rename") { throw crashError("rename") }
        try real.rename(from, to)
    }
    func link(_ from: String, _ to: String) throws(LogbookError) {
        if try step("link") { throw crashError("link") }
        try real.link(from, to)
    }
    func unlink(_ path: String) {
        if (try? step("unlink")) != false { return }  // crashed (or crashing): the file stays
        real.unlink(path)
    }
    func chmod(_ path: String, _ mode: mode_t) throws(LogbookError) {
        if try step("chmod") { throw crashError("chmod") }
        try real.chmod(path, mode)
    }
    func fsType(_ fd: Int32) throws(LogbookError) -> Int64 {
        if try step("fstatfs") { throw crashError("fstatfs") }
        return try real.fsType(fd)
    }
}
