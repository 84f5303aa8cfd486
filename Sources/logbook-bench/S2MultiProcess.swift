import Foundation
import LogbookCore
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

        func fleet(_ name: String, _ argv: (Int, UInt64) -> [String]) throws -> Double {
            let start = nowNS() + UInt64(c.smoke ? 400 : 1500) * 1_000_000
            var kids: [Child] = [], outs: [String] = []
            for k in 0..<n {
                let out = c.dir + "/s2-\(name)-\(k).out"
                outs.append(out)
                kids.append(try Child.spawn(argv(k, start), stdout: out))
            }
            for kid in kids {
                let (status, _) = kid.wait()
                guard status == 0 else { throw BenchError("\(name) writer exited with \(status)") }
            }
            let r = try aggregateRate(outputs: outs)
            log("\(name): \(r.events) events in \(String(format: "%.2f", r.seconds)) s")
            return r.rate
        }
        let me = Paths.selfBinary
        let lb = try fleet("logbook") { k, t in
            [me, "_lb-writer", "--workspace", ws.root, "--task", "L\(k + 1)", "--count", String(count), "--start-at", String(t)]
        }
        let raw = try fleet("raw") { _, t in
            [me, "_raw-writer", "--file", rawFile, "--lock", "--count", String(count), "--bytes", String(Fixture.recordBytes), "--start-at", String(t)]
        }
        let sql = try fleet("sqlite") { _, t in
            [py, script, "writer", "--db", db, "--count", String(count), "--bytes", String(Fixture.recordBytes), "--start-at", String(t)]
        }
        let report = try await ws.verify(file)
        guard report.ok, report.events == 1 + n + n * count else {
            throw BenchError("scenario 2 journal did not verify: \(report.failure?.description ?? "\(report.events) events")")
        }
        return [
            Row(id: "2a", scenario: "\(n) writer processes, durable per event", logbook: fmtRate(lb),
                baseline: fmtRate(sql) + " SQLite \(n) procs", ratio: lb / sql, target: "≥ 5 × SQLite", met: lb / sql >= 5),
            Row(id: "2b", scenario: "\(n) writer processes, durable per event", logbook: fmtRate(lb),
                baseline: fmtRate(raw) + " raw \(n) procs", ratio: lb / raw, target: "≥ 0.5 × raw", met: lb / raw >= 0.5),
        ]
    }
}
