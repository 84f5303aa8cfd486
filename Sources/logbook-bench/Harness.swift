#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Sizes of one run: the full suite or the smoke mode (tiny sizes, seconds; CI).
struct Config: Sendable {
    var smoke: Bool
    var dir: String
    /// Events per in-process single-writer run (scenario 1, 7).
    var singleWriterEvents: Int
    /// Writer processes and events per process (scenario 2).
    var processes: Int
    var eventsPerProcess: Int
    /// Concurrent appenders and events (scenario 3).
    var appenders: Int
    var serverEvents: Int
    /// Spawns per CLI p50 (scenarios 4, 6).
    var cliRuns: Int
    /// Journal sizes for the growth table (1,000-task plan); the largest is scenario 5's and 6's.
    var growthSizes: [Int]
    /// Scenario 4's long journal (the short one has 100 events).
    var cliLongJournal: Int
    var growthTasks: Int
    /// Seconds for the single-core Ed25519 rate.
    var cryptoSeconds: Double

    static func make(smoke: Bool, dir: String) -> Config {
        if smoke {
            return Config(smoke: true, dir: dir, singleWriterEvents: 60, processes: 4, eventsPerProcess: 30, appenders: 16,
                          serverEvents: 400, cliRuns: 5, growthSizes: [1_000, 3_000], cliLongJournal: 2_000, growthTasks: 200,
                          cryptoSeconds: 0.1)
        }
        return Config(smoke: false, dir: dir, singleWriterEvents: 2_000, processes: 16, eventsPerProcess: 600, appenders: 64,
                      serverEvents: 20_000, cliRuns: 31, growthSizes: [1_000, 10_000, 100_000, 1_000_000], cliLongJournal: 100_000,
                      growthTasks: 1_000, cryptoSeconds: 1.0)
    }
}

/// One printed row: a scenario, Logbook's figure, the baseline's, their ratio and the target.
struct Row: Sendable {
    var id: String
    var scenario: String
    var logbook: String
    var baseline: String
    var ratio: Double?
    var target: String
    /// nil: not judged (informational or not measurable yet).
    var met: Bool?

    var ratioText: String { ratio.map { String(format: "%.2f", $0) } ?? "-" }
    var metText: String { met.map { $0 ? "met" : "NOT MET" } ?? "n/a" }
}

enum Table {
    static func print(_ rows: [Row]) {
        let header = ["#", "scenario", "Logbook", "baseline", "ratio", "target", "result"]
        let cells = rows.map { [$0.id, $0.scenario, $0.logbook, $0.baseline, $0.ratioText, $0.target, $0.metText] }
        var widths = header.map(\.count)
        for c in cells { for (i, s) in c.enumerated() { widths[i] = max(widths[i], s.count) } }
        func line(_ c: [String]) -> String {
            "| " + c.enumerated().map { i, s in s.padding(toLength: widths[i], withPad: " ", startingAt: 0) }.joined(separator: " | ") + " |"
        }
        Swift.print(line(header))
        Swift.print("|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|")
        for c in cells { Swift.print(line(c)) }
    }
}

/// CLOCK_MONOTONIC in nanoseconds: one clock for every process of the machine (Python's
/// time.monotonic_ns() reads the same one), so helpers can report start and end times.
func nowNS() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Sleeps until the monotonic clock reaches `t` (a start barrier for helper processes).
func sleepUntil(_ t: UInt64) {
    while true {
        let n = nowNS()
        if n >= t { return }
        usleep(UInt32(min(100_000, (t - n) / 1000)))
    }
}

func seconds(_ ns: UInt64) -> Double { Double(ns) / 1e9 }

/// CPU time of this process (user + system), in nanoseconds.
func cpuNS() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

func median(_ xs: [Double]) -> Double {
    guard !xs.isEmpty else { return .nan }
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func fmtRate(_ perSecond: Double) -> String {
    perSecond >= 10_000 ? String(format: "%.0f ev/s", perSecond) : String(format: "%.1f ev/s", perSecond)
}

func fmtMS(_ s: Double) -> String { s >= 1 ? String(format: "%.2f s", s) : String(format: "%.2f ms", s * 1000) }

func log(_ s: String) {
    FileHandle.standardError.write(Data(("  · " + s + "\n").utf8))
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// A child process started with posix_spawn; `wait()` returns its exit status and rusage
/// (ru_maxrss is the child's peak RSS in KiB).
struct Child {
    let pid: pid_t

    static func spawn(_ argv: [String], stdout: String? = nil, stderr: String? = nil, env: [String: String] = [:]) throws -> Child {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, stdout ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if let stderr { posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        var environment = ProcessInfo.processInfo.environment
        for k in ["LOGBOOK_WORKSPACE", "LOGBOOK_PERSONA", "LOGBOOK_KEY_FILE", "TRACEPARENT"] { environment[k] = nil }
        for (k, v) in env { environment[k] = v }
        let cargs = argv.map { strdup($0) } + [nil]
        let cenv = environment.map { strdup("\($0)=\($1)") } + [nil]
        defer { for p in cargs { free(p) }; for p in cenv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, nil, cargs, cenv)
        guard rc == 0 else { throw BenchError("cannot start \(argv[0]): \(String(cString: strerror(rc)))") }
        return Child(pid: pid)
    }

    func wait() -> (status: Int32, rusage: rusage) {
        var st: Int32 = 0
        var ru = rusage()
        while wait4(pid, &st, 0, &ru) < 0 && errno == EINTR {}
        let exited = (st & 0x7f) == 0
        return (exited ? (st >> 8) & 0xff : 128 + (st & 0x7f), ru)
    }

    /// This process's own peak RSS (VmHWM of its current memory map), in KiB.
    static func ownMaxRSSKiB() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    /// Runs `argv` under the `_rss` helper: wall seconds (spawn to exit) and the child's own peak RSS.
    static func measured(_ argv: [String], dir: String) throws -> (seconds: Double, maxRSSKiB: Int, cpuSeconds: Double) {
        let out = dir + "/rss-\(getpid())-\(nowNS()).out"
        _ = try run([Paths.selfBinary, "_rss", "--"] + argv, stdout: out)
        let text = try String(contentsOfFile: out, encoding: .utf8)
        let p = text.split(separator: "\n").last { $0.hasPrefix("rss ") }?.split(separator: " ") ?? []
        guard p.count == 5, let kib = Int(p[1]), let ns = UInt64(p[2]), let own = Int(p[3]), let cpu = UInt64(p[4]) else { throw BenchError("bad _rss output: \(text)") }
        if kib <= own { log("peak RSS \(kib) KiB is not above the measuring helper's own \(own) KiB: it is an upper bound") }
        return (seconds(ns), kib, seconds(cpu))
    }

    /// Runs to completion; returns wall seconds (spawn to exit) and peak RSS in KiB; throws on a non-zero exit.
    static func run(_ argv: [String], stdout: String? = nil, env: [String: String] = [:]) throws -> (seconds: Double, maxRSSKiB: Int) {
        let t0 = nowNS()
        let c = try spawn(argv, stdout: stdout, env: env)
        let (status, ru) = c.wait()
        let t = seconds(nowNS() - t0)
        guard status == 0 else { throw BenchError("\(argv.prefix(3).joined(separator: " ")) … exited with \(status)") }
        return (t, Int(ru.ru_maxrss))
    }
}

/// Where things are: the package root (for Benchmarks/), this binary, the `logbook` CLI beside it.
enum Paths {
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url = url.deletingLastPathComponent() }
        return url.path
    }()

    static var selfBinary: String {
        let arg0 = CommandLine.arguments[0]
        if arg0.hasPrefix("/") { return arg0 }
        if arg0.contains("/") { return FileManager.default.currentDirectoryPath + "/" + arg0 }
        return URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
    }

    /// `--cli PATH`: measure this `logbook` binary (for example a `--static-swift-stdlib` build).
    nonisolated(unsafe) static var cliOverride: String?

    /// The `logbook` CLI of the same build; built with `swift build --product logbook` if missing.
    static func logbookCLI() throws -> String {
        if let cliOverride { return cliOverride }
        let dir = URL(fileURLWithPath: selfBinary).resolvingSymlinksInPath().deletingLastPathComponent()
        let path = dir.appendingPathComponent("logbook").path
        if FileManager.default.isExecutableFile(atPath: path) { return path }
        let config = dir.lastPathComponent.contains("release") || dir.path.contains("/release") ? "release" : "debug"
        log("the logbook CLI is not beside \(selfBinary); building it (swift build -c \(config) --product logbook)")
        let swift = ["/opt/swift/usr/bin/swift", "/usr/bin/swift"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/bin/env"
        var argv = [swift]
        if swift == "/usr/bin/env" { argv.append("swift") }
        argv += ["build", "-c", config, "--product", "logbook", "--package-path", packageRoot]
        _ = try Child.run(argv, stdout: "/dev/stderr")
        guard FileManager.default.isExecutableFile(atPath: path) else { throw BenchError("no logbook binary at \(path)") }
        return path
    }

    static func python() throws -> String {
        for p in ["/usr/bin/python3", "/usr/local/bin/python3"] where FileManager.default.isExecutableFile(atPath: p) { return p }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let p = "\(dir)/python3"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        throw BenchError("python3 not found (needed for the SQLite baseline)")
    }

    static func sqlite3() throws -> String {
        for p in ["/usr/bin/sqlite3", "/usr/local/bin/sqlite3"] where FileManager.default.isExecutableFile(atPath: p) { return p }
        throw BenchError("the sqlite3 command is not installed (apt-get install -y sqlite3)")
    }
}

/// Reads the `span <start> <end> <events> <cpu ns>` lines helper processes print (monotonic ns)
/// and returns the aggregate rate (all events over the span from the first start to the last end)
/// and the CPU the helpers spent in their loops per event.
/// The exclusive-lock times the Logbook writers printed (`locks APPENDS WAITED HELD RAISE_WAITED
/// RAISE_HELD`, seconds), as microseconds per append; nil when no output has them.
func lockTimesPerAppend(outputs: [String]) -> (waited: Double, held: Double, raiseWaited: Double, raiseHeld: Double)? {
    var n = 0.0, w = 0.0, h = 0.0, rw = 0.0, rh = 0.0
    for f in outputs {
        let text = (try? String(contentsOfFile: f, encoding: .utf8)) ?? ""
        guard let line = text.split(separator: "\n").last(where: { $0.hasPrefix("locks ") }) else { continue }
        let p = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard p.count == 5 else { continue }
        n += p[0]; w += p[1]; h += p[2]; rw += p[3]; rh += p[4]
    }
    guard n > 0 else { return nil }
    return (w / n * 1e6, h / n * 1e6, rw / n * 1e6, rh / n * 1e6)
}

func aggregateRate(outputs: [String]) throws -> (rate: Double, events: Int, seconds: Double, cpuPerEvent: Double) {
    var start = UInt64.max, end: UInt64 = 0, events = 0, cpu: UInt64 = 0
    for f in outputs {
        let text = (try? String(contentsOfFile: f, encoding: .utf8)) ?? ""
        guard let line = text.split(separator: "\n").last(where: { $0.hasPrefix("span ") }) else {
            throw BenchError("helper output \(f) has no span line: \(text.prefix(200))")
        }
        let p = line.split(separator: " ")
        guard p.count == 5, let s = UInt64(p[1]), let e = UInt64(p[2]), let n = Int(p[3]), let c = UInt64(p[4]) else { throw BenchError("bad span line \(line)") }
        start = min(start, s); end = max(end, e); events += n; cpu += c
    }
    let secs = seconds(end - start)
    return (Double(events) / secs, events, secs, seconds(cpu) / Double(events))
}
