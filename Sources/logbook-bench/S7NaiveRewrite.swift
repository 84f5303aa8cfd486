#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore

/// Scenario 7: the design the ADR replaces (HAIOS's runner): per update, read the whole status
/// JSON, change one task, write it to a temp file, fsync, rename. A 200-task plan, one writer;
/// against one durable Logbook event per update on the same plan. Two alternating rounds.
enum NaiveRewrite {
    static func run(_ c: Config) async throws -> Row {
        let tasks = 200
        let (ws, file) = try await Fixture.workspace(c.dir + "/s7", tasks: tasks)
        try await Fixture.startAll(ws, file)
        let book = try await ws.engine.book(file)
        let key = try await ws.engine.signingKey(for: Fixture.persona)
        let note = Fixture.note()
        // The naive file starts as the same 200-task status document (the snapshot's shape).
        let path = c.dir + "/s7-naive-status.json"
        try Data(try await book.snapshotBytes().bytes).write(to: URL(fileURLWithPath: path))
        let half = max(1, c.singleWriterEvents / 4)
        var lbNS: UInt64 = 0, naiveNS: UInt64 = 0, i = 0
        for _ in 0..<2 {
            let t0 = nowNS()
            for k in 0..<half { try naiveUpdate(path, task: (i + k) % tasks, percent: (i + k) % 101, note: note) }
            naiveNS += nowNS() - t0
            let t1 = nowNS()
            for k in 0..<half {
                _ = try await book.submit(Fixture.progress("L\((i + k) % tasks + 1)", i + k, note: note), signer: key)
            }
            lbNS += nowNS() - t1
            i += half
        }
        let lb = seconds(lbNS) / Double(2 * half), naive = seconds(naiveNS) / Double(2 * half)
        return Row(id: "7", scenario: "per-update cost vs whole-file rewrite, \(tasks) tasks", logbook: fmtMS(lb) + "/update",
                   baseline: fmtMS(naive) + "/update naive", ratio: naive / lb, target: "≥ 5 × faster", met: naive / lb >= 5)
    }

    /// Read, parse, change one task, serialise, write temp, fsync, rename.
    static func naiveUpdate(_ path: String, task: Int, percent: Int, note: String) throws {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        guard case .object(var doc) = try JSONParser.parse(bytes), case .object(var payload)? = doc["payload"],
              case .array(var list)? = payload["tasks_status"], case .object(var t) = list[task] else {
            throw BenchError("naive status file has an unexpected shape")
        }
        t["percent_complete"] = JSONValue(percent)
        t["reported_percent"] = JSONValue(percent)
        t["note"] = .string(note)
        t["last_update_ts"] = .string(Timestamp.string(Date()))
        list[task] = .object(t)
        payload["tasks_status"] = .array(list)
        doc["payload"] = .object(payload)
        let out = PrettyJSON.bytes(.object(doc))
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw BenchError("open \(tmp)") }
        let n = out.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard n == out.count, fsync(fd) == 0 else { close(fd); throw BenchError("write/fsync \(tmp)") }
        close(fd)
        guard rename(tmp, path) == 0 else { throw BenchError("rename \(tmp)") }
    }
}
