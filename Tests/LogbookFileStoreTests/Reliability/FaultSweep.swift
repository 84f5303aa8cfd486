import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Runs one operation with a fault at every N (N = 1, 2, … until the operation completes without
/// the fault firing), for each fault kind, each time on a fresh copy of a prepared workspace.
///
/// The harness is generic: an operation closure (what to run, through the faulty system calls)
/// and a check closure (what must hold afterwards, with real system calls, after the torn tails
/// of every journal were recovered as the next process would). New steps (rotation, lifecycle)
/// plug in as one more `sweep` call.
///
/// After every run the harness itself checks that the caller's error, if any, is a
/// ``LogbookError`` whose message says what failed (the call, and for injected errno faults the
/// plain-words hint), and that recovery leaves no journal with a torn tail.
enum FaultSweep {
    struct Outcome: CustomStringConvertible {
        var kind: SweepFileOps.Kind
        var n: Int
        /// The error the caller got, if any.
        var error: (any Error)?
        /// Whether the fault fired (false: the run that completed cleanly and ended the sweep).
        var fired: Bool
        var trace: [String]
        var succeeded: Bool { error == nil }
        var description: String {
            "\(kind.rawValue) at op \(n)\(fired ? "" : " (not reached)"): \(error.map { "\($0)" } ?? "succeeded"); ops \(trace.joined(separator: " "))"
        }
    }

    struct Stats: CustomStringConvertible {
        var runs = 0
        var fired = 0
        var failedCleanly = 0
        var completedDespiteFault = 0
        var strayTempFiles = 0
        var longestN: [String: Int] = [:]
        /// The first error message the caller got, per fault kind.
        var samples: [String: String] = [:]
        var description: String {
            let ns = longestN.sorted { $0.key < $1.key }.map { "\($0.key) 1…\($0.value)" }.joined(separator: ", ")
            return "\(runs) runs, \(fired) faults fired, \(failedCleanly) clean errors, \(completedDespiteFault) completed despite the fault, \(strayTempFiles) temp files left by crashes; N swept: \(ns)"
        }
    }

    /// Sweeps `operation` over every fault kind in `kinds`.
    ///
    /// - Parameters:
    ///   - template: a prepared workspace folder; every run works on a fresh copy of it.
    ///   - operation: runs the step through `ws` (whose system calls are `ops`); calls `ops.arm()`
    ///     when the counted part starts.
    ///   - check: runs after the run and recovery, with the copy's root; throws or records issues.
    static func sweep(_ name: String, template: String, kinds: [SweepFileOps.Kind] = SweepFileOps.Kind.allCases,
                      maxN: Int = 300,
                      operation: (Workspace, SweepFileOps) async throws -> Void,
                      check: (String, Outcome) async throws -> Void) async throws -> Stats {
        var stats = Stats()
        for kind in kinds {
            var n = 1
            while true {
                let root = TestSupport.tempDirectory("sweep")
                defer { try? FileManager.default.removeItem(atPath: root) }
                try copyFolder(template, to: root)
                let ops = SweepFileOps(kind: kind, n: n)
                var error: (any Error)?
                do {
                    let ws = Workspace(root: root, ops: ops)
                    try await operation(ws, ops)
                } catch let e {
                    error = e
                }
                let outcome = Outcome(kind: kind, n: n, error: error, fired: ops.fired, trace: ops.trace)
                stats.runs += 1
                if outcome.fired { stats.fired += 1 }
                if outcome.fired, outcome.error == nil { stats.completedDespiteFault += 1 }
                if let e = error {
                    if checkError(e, outcome) { stats.failedCleanly += 1 }
                    if stats.samples[kind.rawValue] == nil { stats.samples[kind.rawValue] = "\(e)" }
                }
                if kind == .powerLoss, ops.crashed {
                    for (path, size) in ops.durableSizes where (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64).map({ $0 > size }) == true {
                        _ = truncate(path, off_t(size))
                    }
                }
                if ops.crashed {
                    stats.strayTempFiles += ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter { $0.hasPrefix(".tmp-") }.count
                }
                // The next process: recover every journal's torn tail, then the step's own checks.
                let ws = Workspace(root: root)
                for file in (try? await ws.engine.listPlans()) ?? [] where (try? await ws.store.journalExists(file.journalRef)) == true {
                    _ = try ws.store.recover(file.journalRef)
                    #expect(try ws.store.tornTailBytes(file.journalRef) == 0, "\(name): \(outcome)")
                }
                try await check(root, outcome)
                if !outcome.fired {
                    #expect(outcome.succeeded, "\(name): the run without a fault failed: \(outcome)")
                    stats.longestN[kind.rawValue] = n - 1
                    break
                }
                if n >= maxN {
                    Issue.record("\(name): \(kind.rawValue) still firing at op \(n); the operation never completes")
                    break
                }
                n += 1
            }
        }
        return stats
    }

    /// The caller's error must be a LogbookError that says what failed.
    static func checkError(_ e: any Error, _ o: Outcome) -> Bool {
        guard let le = e as? LogbookError else {
            Issue.record("not a LogbookError: \(type(of: e)) \(e) [\(o)]")
            return false
        }
        let text = le.description
        // A failed sync (or a crash at it) after the bytes were written is indeterminate, not io.
        let syncFault = o.kind == .eioSync || o.kind == .crash || o.kind == .powerLoss
        var ok = !le.message.isEmpty && (le.code == .io || (syncFault && le.code == .indeterminate))
        // Names the file (or its folder) and the call.
        if o.kind != .crash, o.kind != .powerLoss {
            ok = ok && (text.contains("the folder of") || text.contains(try! Regex("[A-Za-z0-9_]\\.(journal|txt|json|md|checkpoint|gz|key): ")))
        }
        switch o.kind {
        case .enospc: ok = ok && text.contains("disk is full") && text.contains("write")
        case .eioWrite: ok = ok && text.contains("I/O error") && text.contains("write")
        case .eioSync: ok = ok && text.contains("I/O error") && text.contains("sync")
        case .shortWrite: ok = false  // a short write is not an error: the caller must loop
        case .crash, .powerLoss: ok = ok && text.contains("crashed")
        }
        #expect(ok, "unclear error for \(o)")
        return ok
    }

    static func copyFolder(_ from: String, to: String) throws {
        let fm = FileManager.default
        for name in try fm.contentsOfDirectory(atPath: from) {
            let src = from + "/" + name, dst = to + "/" + name
            var isDir: ObjCBool = false
            _ = fm.fileExists(atPath: src, isDirectory: &isDir)
            if isDir.boolValue {
                try fm.createDirectory(atPath: dst, withIntermediateDirectories: true)
                try copyFolder(src, to: dst)
            } else {
                try fm.copyItem(atPath: src, toPath: dst)
            }
        }
        // Key files must stay private (copyItem keeps modes, but be explicit).
        if Paths.isKeys(to) { for k in (try? fm.contentsOfDirectory(atPath: to)) ?? [] { chmod(to + "/" + k, 0o600) } }
    }

    enum Paths {
        static func isKeys(_ p: String) -> Bool { p.hasSuffix("/keys") }
    }

    /// Every event of a plan's journal (complete lines only).
    static func events(_ ws: Workspace, _ file: PlanFile) async throws -> [Event] {
        var out: [Event] = []
        try await ws.store.forEachLine(file.journalRef) { out.append(try Event(line: $0.bytes)) }
        return out
    }

    /// Prints one line for docs/RELIABILITY.md.
    static func report(_ family: String, _ text: String) {
        print("RELIABILITY \(family): \(text)")
    }
}
