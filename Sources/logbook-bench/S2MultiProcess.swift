import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore

/// Scenario 2: N long-lived writer processes, durable per event, one journal; against SQLite
/// (Python's sqlite3, WAL, synchronous=FULL, one transaction per event) with N processes and
/// against the raw loop with N processes (flock around the write only, fdatasync outside).
enum MultiProcess {
    static func run(_ c: Config) async throws -> [Row] {
        let n = c.processes, count = c.eventsPerProcess
        let (ws, file) = try await Fixture.workspace(c.dir + "/s2", tasks: n)
        try await Fixture.startAll(ws, file)
        let py = try Paths.python()
        let script = Paths.packageRoot + "/Benchmarks/sqlite_bench.py"
        let db = c.dir + "/s2.sqlite"
        for f in [db, db + "-wal", db + "-shm"] { try? FileManager.default.removeItem(atPath: f) }
        _ = try Child.run([py, script, "init", "--db", db])
        let rawFile = c.dir + "/s2-raw.log"

        /// Starts `n` writers at one instant; returns their aggregate rate and CPU seconds per event.
        func fleet(_ name: String, _ round: Int, _ argv: (Int, UInt64) -> [String]) throws -> (rate: Double, cpuPerEvent: Double, events: Int, seconds: Double) {
            let start = nowNS() + UInt64(c.smoke ? 400 : 1500) * 1_000_000
            var kids: [Child] = [], outs: [String] = []
            for k in 0..<n {
                let out = c.dir + "/s2-\(name)-\(round)-\(k).out"
                outs.append(out)
                kids.append(try Child.spawn(argv(k, start), stdout: out))
            }
            for kid in kids {
                let (status, _) = kid.wait()
                guard status == 0 else { throw BenchError("\(name) writer exited with \(status)") }
            }
            let r = try aggregateRate(outputs: outs)
            log("\(name) round \(round): \(r.events) events in \(String(format: "%.2f", r.seconds)) s, \(String(format: "%.0f", r.cpuPerEvent * 1e6)) µs CPU per event (sum over the writers' loops)")
            if let l = lockTimesPerAppend(outputs: outs) {
                log(String(format: "\(name) round \(round): per append, the journal's exclusive lock was waited for %.0f µs and held %.0f µs (write), then waited for %.0f µs and held %.0f µs (raise the durable mark)",
                           l.waited, l.held, l.raiseWaited, l.raiseHeld))
            }
            return (r.rate, r.cpuPerEvent, r.events, r.seconds)
        }
        let me = Paths.selfBinary
        // Two rounds, alternating the three, each half the events; rates are total events over total time.
        var lbE = 0, lbS = 0.0, rawE = 0, rawS = 0.0, sqlE = 0, sqlS = 0.0, lbCPU = 0.0
        let per = max(1, count / 2)
        for round in 0..<2 {
            let l = try fleet("logbook", round) { k, t in
                [me, "_lb-writer", "--workspace", ws.root, "--task", "L\(k + 1)", "--count", String(per), "--start-at", String(t)]
            }
            lbE += l.events; lbS += l.seconds; lbCPU += l.cpuPerEvent * Double(l.events)
            let r = try fleet("raw", round) { _, t in
                [me, "_raw-writer", "--file", rawFile, "--lock", "--count", String(per), "--bytes", String(Fixture.recordBytes), "--start-at", String(t)]
            }
            rawE += r.events; rawS += r.seconds
            let q = try fleet("sqlite", round) { _, t in
                [py, script, "writer", "--db", db, "--count", String(per), "--bytes", String(Fixture.recordBytes), "--start-at", String(t)]
            }
            sqlE += q.events; sqlS += q.seconds
        }
        let lb = Double(lbE) / lbS, raw = Double(rawE) / rawS, sql = Double(sqlE) / sqlS
        let cpuUS = lbCPU / Double(lbE) * 1e6
        let report = try await ws.engine.verify(file)
        guard report.ok, report.events == 1 + n + lbE else {
            throw BenchError("scenario 2 journal did not verify: \(report.failure?.description ?? "\(report.events) events")")
        }
        return [
            Row(id: "2a", scenario: "\(n) writer processes, durable per event", logbook: fmtRate(lb),
                baseline: fmtRate(sql) + " SQLite \(n) procs", ratio: lb / sql, target: "≥ 5 × SQLite", met: lb / sql >= 5),
            Row(id: "2b", scenario: "\(n) writer processes, durable per event", logbook: fmtRate(lb) + String(format: " (%.0f µs CPU/ev)", cpuUS),
                baseline: fmtRate(raw) + " raw \(n) procs", ratio: lb / raw, target: "≥ 0.5 × raw", met: lb / raw >= 0.5),
        ]
    }
}
