import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore

/// Scenario 4: `logbook task progress …` spawn to exit, p50, at a 100-event journal and at a
/// long one (100,000 events), against one `sqlite3` CLI insert per invocation (WAL database,
/// synchronous=FULL). Runs alternate between the three so they share the machine's noise.
enum CLIUpdate {
    static func run(_ c: Config) async throws -> [Row] {
        let cli = try Paths.logbookCLI()
        let sqlite = try Paths.sqlite3()
        let py = try Paths.python()
        let script = Paths.packageRoot + "/Benchmarks/sqlite_bench.py"
        let tasks = 20
        let (short, shortFile) = try await Fixture.workspace(c.dir + "/s4-short", tasks: tasks)
        try await Fixture.startAll(short, shortFile)
        try await Fixture.grow(short, shortFile, to: 100)
        let (long, longFile) = try await Fixture.workspace(c.dir + "/s4-long", tasks: tasks)
        try await Fixture.startAll(long, longFile)
        try await Fixture.grow(long, longFile, to: c.cliLongJournal)
        let db = c.dir + "/s4.sqlite"
        for f in [db, db + "-wal", db + "-shm"] { try? FileManager.default.removeItem(atPath: f) }
        _ = try Child.run([py, script, "init", "--db", db])
        let sqlOut = c.dir + "/s4-insert.sql"
        _ = try Child.run([py, script, "insert-sql", "--bytes", String(Fixture.recordBytes)], stdout: sqlOut)
        let sql = try String(contentsOfFile: sqlOut, encoding: .utf8)
        let note = Fixture.note()

        func update(_ ws: Workspace, _ i: Int) -> [String] {
            [cli, "task", "progress", "L\(i % tasks + 1)", "--percent", String(i % 101), "--note", note, "--persona", Fixture.persona,
             "--workspace", ws.root]
        }
        // Start-up alone: the same command refused by its first check (--percent 500, exit 2),
        // before the workspace is opened.
        var startArgs = update(short, 0)
        startArgs[5] = "500"
        var tShort: [Double] = [], tLong: [Double] = [], tSQL: [Double] = [], tStart: [Double] = []
        for i in -1..<c.cliRuns {  // run -1 warms the page cache
            let a = try Child.run(update(short, i + 1)).seconds
            let b = try Child.run(update(long, i + 1)).seconds
            let s = try Child.run([sqlite, db, sql]).seconds
            let t0 = nowNS()
            let (status, _) = try Child.spawn(startArgs, stderr: "/dev/null").wait()
            let st = seconds(nowNS() - t0)
            guard status == 2 else { throw BenchError("the refused update exited with \(status), not 2") }
            if i >= 0 { tShort.append(a); tLong.append(b); tSQL.append(s); tStart.append(st) }
        }
        let (ps, pl, pq) = (median(tShort), median(tLong), median(tSQL))
        let pStart = median(tStart)
        let longN = c.cliLongJournal
        return [
            Row(id: "4a", scenario: "CLI one-shot update, p50 (100-event journal)", logbook: fmtMS(ps),
                baseline: fmtMS(pq) + " sqlite3 CLI insert", ratio: ps / pq, target: "≤ 2 × sqlite3", met: ps / pq <= 2),
            Row(id: "4a'", scenario: "  of which start-up: the same command refused at --percent 500", logbook: fmtMS(pStart),
                baseline: fmtMS(pq) + " sqlite3 CLI insert", ratio: pStart / pq, target: "(diagnostic)", met: nil),
            Row(id: "4b", scenario: "CLI one-shot update, p50 at \(longN) events", logbook: fmtMS(pl),
                baseline: fmtMS(ps) + " at 100 events", ratio: pl / ps, target: "≤ 1.25 × at 100", met: pl / ps <= 1.25),
        ]
    }
}
