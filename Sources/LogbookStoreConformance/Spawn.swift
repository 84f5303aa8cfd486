#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LogbookCore

/// Runs a program and waits, for backends' tests that drive a command-line tool, with
/// `posix_spawn` rather than Foundation's `Process`: on Linux `Process.run()` over-reads
/// `/proc/self/fd` entries and crashes intermittently in a process with many open descriptors
/// (swift-corelibs-foundation#5472), which a test process running many stores in parallel is.
/// Output goes to temporary files, so neither stream can fill a pipe and block the child.
public enum Spawn {
    public struct Result: Sendable {
        /// The exit status, or the signal number for a child killed by a signal (as `Process`).
        public var status: Int32
        public var stdout: [UInt8]
        public var stderr: [UInt8]
    }

    public static func run(_ path: String, _ args: [String], environment: [String: String]) throws -> Result {
        let base = NSTemporaryDirectory() + "logbook-spawn-\(getpid())-\(UUID().uuidString)"
        let outPath = base + ".out", errPath = base + ".err"
        defer { unlink(outPath); unlink(errPath) }
        let pid = try start(path, args, environment: environment, stdout: outPath, stderr: errPath)
        let status = try wait(pid)
        func read(_ p: String) -> [UInt8] { Array(FileManager.default.contents(atPath: p) ?? Data()) }
        return Result(status: status, stdout: read(outPath), stderr: read(errPath))
    }

    /// Starts a program with stdin from /dev/null and stdout and stderr into these files, and
    /// returns at once (a server a test talks to). ``wait(_:)`` reaps it.
    public static func start(_ path: String, _ args: [String], environment: [String: String], stdout outPath: String, stderr errPath: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + args).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, nil, argv, envp)
        guard rc == 0 else { throw LogbookError(.io, "cannot start \(path): \(String(cString: strerror(rc)))") }
        return pid
    }

    /// Waits for a child to end: its exit status, or the signal number that killed it.
    public static func wait(_ pid: pid_t) throws -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw LogbookError(.io, "waitpid \(pid): \(String(cString: strerror(errno)))") }
        }
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : signal
    }

    /// The built `logbook` binary for tests: $LOGBOOK_BIN, else beside the test bundle (or up to
    /// four folders above it).
    public static var logbookBinary: String {
        if let b = ProcessInfo.processInfo.environment["LOGBOOK_BIN"] { return b }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("logbook").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("logbook").path
    }
}
