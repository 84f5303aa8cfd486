import Crypto
import Dispatch
import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore

/// How cost grows with the journal: a 1,000-task plan at 10³…10⁶ events. For each size:
/// `status --json` p50, `verify` time and peak RSS, and the append latency (CLI spawn to exit,
/// and one durable in-process submit). Scenarios 5, 6 and 8 read the largest and smallest.
struct GrowthPoint {
    var events: Int
    var journalBytes: Int
    var statusP50: Double
    /// `stale --json`, `blocked --json`, `next --persona P --json`: spawn to exit, p50 (row 10).
    var superviseP50: [String: Double] = [:]
    var verifySeconds: Double
    var verifyCPUSeconds: Double
    /// Ed25519 verifications per second on all cores, measured just before and after this verify.
    var ed25519AllCores: Double
    var verifyRSSKiB: Int
    var cliAppendP50: Double
    var submitP50: Double
    var openSeconds: Double
    /// An idempotent repeat (same key, same content) in-process: returns the first event.
    var repeatSeconds: Double
    var journalPath: String
    var size: Fixture.JournalSize
}

enum Growth {
    static func run(_ c: Config) async throws -> [GrowthPoint] {
        let cli = try Paths.logbookCLI()
        let note = Fixture.note()
        var points: [GrowthPoint] = []
        var ws: Workspace?, file: PlanFile?
        var statusRoots: [String] = []
        for size in c.growthSizes {
            if ws == nil {
                let (w, f) = try await Fixture.workspace(c.dir + "/growth", tasks: c.growthTasks)
                try await Fixture.startAll(w, f)
                ws = w; file = f
            }
            let w = ws!, f = file!
            let g0 = nowNS()
            try await Fixture.grow(w, f, to: size)
            log("growth: journal at \(size) events (\(String(format: "%.1f", seconds(nowNS() - g0))) s to write)")
            let events = try await w.engine.book(f).state().seq + 1
            let bytes = Fixture.journalBytes(w, f)

            // `status` is timed at the end, all sizes interleaved (the machine's load drifts over a
            // run): keep a copy of the workspace at this size, but for the largest.
            let copy = c.dir + "/growth-at-\(size)"
            if size != c.growthSizes.last {
                try? FileManager.default.removeItem(atPath: copy)
                try FileManager.default.copyItem(atPath: w.root, toPath: copy)
            }
            statusRoots.append(size == c.growthSizes.last ? w.root : copy)
            let e0 = ed25519VerifyRate(seconds: c.cryptoSeconds / 2, threads: ProcessInfo.processInfo.activeProcessorCount)
            let v = try Child.measured([cli, "verify", "--workspace", w.root], dir: c.dir)
            let e1 = ed25519VerifyRate(seconds: c.cryptoSeconds / 2, threads: ProcessInfo.processInfo.activeProcessorCount)
            log("growth: verify of \(events) events: \(fmtMS(v.seconds)) (\(fmtMS(v.cpuSeconds)) CPU), peak RSS \(v.maxRSSKiB / 1024) MiB")
            var appends: [Double] = []
            for i in 0..<max(3, c.cliRuns / 3) {
                let t = try Child.run([cli, "task", "progress", "L\(i + 1)", "--percent", "7", "--note", note,
                                       "--persona", Fixture.persona, "--workspace", w.root]).seconds
                appends.append(t)
            }
            let o0 = nowNS()
            let book = try await w.engine.book(f)
            let openS = seconds(nowNS() - o0)
            let key = try await w.engine.signingKey(for: Fixture.persona)
            var submits: [Double] = []
            for i in 0..<20 {
                let t0 = nowNS()
                _ = try await book.submit(Fixture.progress("L\(i + 1)", i, note: note), signer: key)
                submits.append(seconds(nowNS() - t0))
            }
            var once = Fixture.progress("L1", 1, note: note)
            once.idempotencyKey = "bench-repeat-\(size)"
            let first = try await book.submit(once, signer: key)
            let r0 = nowNS()
            let again = try await book.submit(once, signer: key)
            let repeatS = seconds(nowNS() - r0)
            guard again.seq == first.seq else { throw BenchError("the idempotent repeat returned seq \(again.seq), not \(first.seq)") }
            points.append(GrowthPoint(events: events, journalBytes: bytes, statusP50: 0, verifySeconds: v.seconds,
                                      verifyCPUSeconds: v.cpuSeconds, ed25519AllCores: (e0 + e1) / 2,
                                      verifyRSSKiB: v.maxRSSKiB, cliAppendP50: median(appends), submitP50: median(submits),
                                      openSeconds: openS, repeatSeconds: repeatS, journalPath: w.store.journalPath(f.journalRef),
                                      size: Fixture.journalSize(w, f)))
        }
        // `status --json`, spawn to exit, at every size in turn.
        var status = [[Double]](repeating: [], count: statusRoots.count)
        for run in -1..<c.cliRuns {
            for (k, root) in statusRoots.enumerated() {
                let t = try Child.run([cli, "status", "--json", "--workspace", root]).seconds
                if run >= 0 { status[k].append(t) }
            }
        }
        for k in points.indices { points[k].statusP50 = median(status[k]) }
        // A supervisor's questions, the same way (row 10).
        for (name, args) in superviseQueries {
            var times = [[Double]](repeating: [], count: statusRoots.count)
            for run in -1..<max(5, c.cliRuns / 2) {
                for (k, root) in statusRoots.enumerated() {
                    let t = try Child.run([cli] + args + ["--json", "--workspace", root]).seconds
                    if run >= 0 { times[k].append(t) }
                }
            }
            for k in points.indices { points[k].superviseP50[name] = median(times[k]) }
        }
        return points
    }

    static func print(_ points: [GrowthPoint]) {
        Swift.print("\nGrowth: cost against journal length (one plan, growing)")
        Swift.print("| events | journal | status --json p50 | verify | verify ev/s | verify ev/CPU-s | verify peak RSS | CLI append p50 | submit p50 (in-process) | book open | idempotent repeat |")
        Swift.print("|---|---|---|---|---|---|---|---|---|---|---|")
        for p in points {
            Swift.print("| \(p.events) | \(String(format: "%.1f", Double(p.journalBytes) / 1_048_576)) MiB | \(fmtMS(p.statusP50)) | \(fmtMS(p.verifySeconds)) | \(fmtRate(Double(p.events) / p.verifySeconds)) | \(fmtRate(Double(p.events) / p.verifyCPUSeconds)) | \(p.verifyRSSKiB / 1024) MiB | \(fmtMS(p.cliAppendP50)) | \(fmtMS(p.submitP50)) | \(fmtMS(p.openSeconds)) | \(fmtMS(p.repeatSeconds)) |")
        }
        guard let a = points.first, let b = points.last, b.events > a.events else { return }
        let n = Double(b.events) / Double(a.events)
        func shape(_ x: Double, _ y: Double) -> String {
            let r = y / x
            return String(format: "×%.2f", r) + (r < 1.5 ? " (flat)" : r > n / 3 ? " (linear)" : " (sublinear)")
        }
        Swift.print("From \(a.events) to \(b.events) events (×\(Int(n))): status \(shape(a.statusP50, b.statusP50)), verify \(shape(a.verifySeconds, b.verifySeconds)), verify RSS \(shape(Double(a.verifyRSSKiB), Double(b.verifyRSSKiB))), CLI append \(shape(a.cliAppendP50, b.cliAppendP50)), submit \(shape(a.submitP50, b.submitP50)), book open \(shape(a.openSeconds, b.openSeconds)), idempotent repeat \(shape(a.repeatSeconds, b.repeatSeconds))")
    }

    /// Scenario 5: verify rate against cores × the single-core Ed25519 verify rate, and peak RSS.
    /// The machine is shared, so the rows also give the all-core Ed25519 rate measured around
    /// the verify (what the cores actually delivered) and verify's events per CPU-second against
    /// the single-core rate (the part of verify's work that is Ed25519, whatever the load).
    static func verifyRows(_ points: [GrowthPoint], _ c: Config) -> [Row] {
        guard let p = points.last else { return [] }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let one = ed25519VerifyRate(seconds: c.cryptoSeconds, threads: 1)
        let limit = Double(cores) * one
        let rate = Double(p.events) / p.verifySeconds
        let perCPU = Double(p.events) / p.verifyCPUSeconds
        let mib = Double(p.verifyRSSKiB) / 1024
        return [
            Row(id: "5a", scenario: "verify, \(p.events)-event signed journal", logbook: fmtRate(rate),
                baseline: fmtRate(limit) + " = \(cores) × 1-core Ed25519", ratio: rate / limit, target: "≥ 0.8 × cores × 1-core", met: rate / limit >= 0.8),
            Row(id: "5a'", scenario: "  same, against all-core Ed25519 measured around it", logbook: fmtRate(rate),
                baseline: fmtRate(p.ed25519AllCores) + " all-core Ed25519", ratio: rate / p.ed25519AllCores, target: "(≥ 0.8, load-fair)", met: nil),
            Row(id: "5a''", scenario: "  same, per CPU-second (Ed25519 share of verify)", logbook: fmtRate(perCPU) + "/CPU-s",
                baseline: fmtRate(one) + " 1-core Ed25519", ratio: perCPU / one, target: "(≥ 0.8 needed)", met: nil),
            Row(id: "5b", scenario: "verify peak RSS, \(p.events) events", logbook: String(format: "%.1f MiB", mib),
                baseline: "64 MiB limit", ratio: mib / 64, target: "≤ 64 MiB", met: mib <= 64),
        ]
    }

    static let superviseQueries: [(String, [String])] = [
        ("stale", ["stale", "--older-than", "10m"]), ("blocked", ["blocked"]), ("next", ["next", "--persona", Fixture.persona]),
    ]

    /// Scenario 10: a supervisor's questions (issue 12) on the 1,000-task plan, longest journal
    /// against the shortest (flat in journal length), with their p50.
    static func superviseRows(_ points: [GrowthPoint], _ c: Config) -> [Row] {
        guard let a = points.first, let b = points.last else { return [] }
        return zip(["10a", "10b", "10c"], superviseQueries).map { id, q in
            let x = a.superviseP50[q.0] ?? .nan, y = b.superviseP50[q.0] ?? .nan
            return Row(id: id, scenario: "\(q.1.joined(separator: " ")) --json p50, \(c.growthTasks) tasks, \(b.events) events", logbook: fmtMS(y),
                       baseline: fmtMS(x) + " at \(a.events) events", ratio: y / x, target: "≤ 1.5 × (flat)", met: y / x <= 1.5)
        }
    }

    /// Scenario 6: `status --json` for 1,000 tasks, longest journal against the shortest, and p50.
    static func statusRows(_ points: [GrowthPoint], _ c: Config) -> [Row] {
        guard let a = points.first, let b = points.last else { return [] }
        return [
            Row(id: "6a", scenario: "status --json, \(c.growthTasks) tasks, \(b.events) events", logbook: fmtMS(b.statusP50),
                baseline: fmtMS(a.statusP50) + " at \(a.events) events", ratio: b.statusP50 / a.statusP50, target: "≤ 1.5 ×",
                met: b.statusP50 / a.statusP50 <= 1.5),
            Row(id: "6b", scenario: "status --json p50, \(c.growthTasks) tasks, \(b.events) events", logbook: fmtMS(b.statusP50),
                baseline: "50 ms", ratio: b.statusP50 / 0.05, target: "≤ 50 ms", met: b.statusP50 <= 0.05),
        ]
    }

    /// Ed25519 verifications per second (swift-crypto, the primitive verify uses) on `threads` threads.
    static func ed25519VerifyRate(seconds limit: Double, threads: Int) -> Double {
        let key = Curve25519.Signing.PrivateKey()
        let raw = key.publicKey.rawRepresentation
        let msgs = (0..<256).map { i in Array(SHA256.hash(data: [UInt8(i)])) }
        let sigs = msgs.map { try! key.signature(for: $0) }
        let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: threads)
        counts.initialize(repeating: 0)
        defer { counts.deallocate() }
        nonisolated(unsafe) let out = counts
        let t0 = nowNS()
        let end = t0 + UInt64(limit * 1e9)
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let pk = try! Curve25519.Signing.PublicKey(rawRepresentation: raw)
            var n = 0
            while nowNS() < end {
                for i in 0..<64 { precondition(pk.isValidSignature(sigs[(n + i) % 256], for: msgs[(n + i) % 256])) }
                n += 64
            }
            out[t] = n
        }
        return Double(counts.reduce(0, +)) / seconds(nowNS() - t0)
    }
}
