#if canImport(Glibc)
import Glibc
#endif
import CLogbookShims
import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore

/// Helper modes of this binary, run as child processes by the multi-process scenarios. Each
/// waits for a common start time, appends, and prints `span <start ns> <end ns> <events>`.
enum Helper {
    static func option(_ args: [String], _ name: String) -> String? {
        guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
        return args[i + 1]
    }

    static func run(_ mode: String, _ args: [String]) async throws {
        let count = Int(option(args, "--count") ?? "100") ?? 100
        let startAt = UInt64(option(args, "--start-at") ?? "0") ?? 0
        switch mode {
        case "_raw-writer":
            let lock = args.contains("--lock")
            let bytes = Int(option(args, "--bytes") ?? "400") ?? 400
            var c0: UInt64 = 0
            let (t0, t1) = try RawLoop.append(path: option(args, "--file")!, count: count, bytes: bytes, lock: lock, startAt: startAt) { c0 = cpuNS() }
            print("span \(t0) \(t1) \(count) \(cpuNS() - c0)")
        case "_lb-writer":
            let ws = try Workspace.open(option(args, "--workspace")!)
            let task = option(args, "--task")!
            let book = try await ws.engine.book(try await ws.engine.plan(nil))
            let key = try await ws.engine.signingKey(for: Fixture.persona)
            let note = Fixture.note()
            sleepUntil(startAt)
            let c0 = cpuNS()
            let t0 = nowNS()
            for i in 0..<count { _ = try await book.submit(Fixture.progress(task, i, note: note), signer: key) }
            print("span \(t0) \(nowNS()) \(count) \(cpuNS() - c0)")
            let lock = ws.store.exclusiveLockTimes
            print("locks \(lock.appends) \(lock.waitedSeconds) \(lock.heldSeconds) \(lock.raiseWaitedSeconds) \(lock.raiseHeldSeconds)")
        case "_rss":
            // Peak RSS of a command. Run from this small fresh process because Linux counts, in a
            // child's ru_maxrss, the memory of the process it was spawned from (vfork + exec).
            guard let i = args.firstIndex(of: "--") else { throw BenchError("_rss needs -- COMMAND") }
            let own = Child.ownMaxRSSKiB()
            let t0 = nowNS()
            let child = try Child.spawn(Array(args[(i + 1)...]))
            let (status, ru) = child.wait()
            let t1 = nowNS()
            guard status == 0 else { throw BenchError("\(args[i + 1]) exited with \(status)") }
            let cpuNS = (Int(ru.ru_utime.tv_sec) + Int(ru.ru_stime.tv_sec)) * 1_000_000_000 + (Int(ru.ru_utime.tv_usec) + Int(ru.ru_stime.tv_usec)) * 1000
            print("rss \(ru.ru_maxrss) \(t1 - t0) \(own) \(cpuNS)")
        default:
            throw BenchError("unknown helper mode \(mode)")
        }
    }
}

/// The physical limit: append a record and fdatasync, nothing else.
enum RawLoop {
    static func record(_ bytes: Int) -> [UInt8] {
        var r = Array(("{\"note\":\"" + Fixture.filler(max(0, bytes - 12)) + "\"}").utf8)
        r = Array(r.prefix(bytes - 1))
        r.append(0x0A)
        return r
    }

    /// With `lock`, writers take flock around the write only and sync outside it (what the file
    /// store does); returns the monotonic start and end of the loop.
    static func append(path: String, count: Int, bytes: Int, lock: Bool, startAt: UInt64 = 0, started: () -> Void = {}) throws -> (UInt64, UInt64) {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard fd >= 0 else { throw BenchError("open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let rec = record(bytes)
        sleepUntil(startAt)
        started()
        let t0 = nowNS()
        for _ in 0..<count {
            if lock { _ = clogbook_flock(fd, LOCK_EX) }
            let n = rec.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if lock { _ = clogbook_flock(fd, LOCK_UN) }
            guard n == rec.count else { throw BenchError("short write") }
            guard fdatasync(fd) == 0 else { throw BenchError("fdatasync: \(String(cString: strerror(errno)))") }
        }
        return (t0, nowNS())
    }
}
