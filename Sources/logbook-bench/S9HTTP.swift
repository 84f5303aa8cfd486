import Dispatch
import Foundation
import LogbookClient
import LogbookCore
import LogbookEngine
import LogbookFileStore
import LogbookServer
import Metrics
import Prometheus
import ServiceLifecycle
import Synchronization

/// Scenario 9, `logbook serve` (issue 11): the server in this process on a loopback port, the
/// clients too (signing their statements, as remote agents do).
///
/// - 9a: HTTP append throughput, 64 concurrent clients on one plan, against row 3 (the same
///   appends in-process, without HTTP) measured in the same run.
/// - 9b: append-to-delivery latency to 100 SSE subscribers while 16 writers append: from just
///   before a writer sends its statement to the subscriber's receipt of the event.
/// - 9c: a remote CLI update (`--server`), spawn to exit, against the local one.
enum HTTPServe {
    static func run(_ c: Config, inProcessRate: Double?) async throws -> [Row] {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(LogbookServer.metricsFactory(registry: registry))
        let lanes = c.appenders
        let (ws, file) = try await Fixture.workspace(c.dir + "/s9", tasks: lanes)
        try await Fixture.startAll(ws, file)
        let engine = ws.engine(.init(observeCommit: ServerMetrics.observeCommit))
        let server = LogbookServer(engine: engine, configuration: .init(port: 0), registry: registry)
        let port = Mutex<Int?>(nil)
        let group = ServiceGroup(configuration: .init(services: [server.service { _, p in port.withLock { $0 = p } }], logger: .init(label: "bench")))
        let running = Task { try await group.run() }
        while port.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(5)) }
        let url = "http://127.0.0.1:\(port.withLock { $0 }!)"
        let remote = try RemoteLogbook(server: url)
        let key = try await ws.engine.signingKey(for: Fixture.persona)
        let note = Fixture.note()

        // Row 3's figure in this run (measured now if row 3 was not selected).
        let rate3: Double
        if let inProcessRate { rate3 = inProcessRate } else { rate3 = try await Self.rate(of: ServerPath.run(c)) }

        // 9a: 64 clients, progress on their own task, each having seen its last acknowledged event.
        let total = c.serverEvents
        let head = try await headSeen(remote)
        let t0 = nowNS()
        try await withThrowingTaskGroup(of: Void.self) { g in
            for lane in 0..<lanes {
                g.addTask {
                    var seen = head
                    var i = lane
                    while i < total {
                        let s = SignedStatement(Statement(plan: "EP-BENCH", task: "L\(lane + 1)", persona: Fixture.persona, keyID: key.publicKey.keyID,
                                                          type: .progress, data: ["percent": JSONValue(i % 101), "note": .string(note)],
                                                          at: Timestamp.string(Date()), seen: seen), signer: key)
                        let (e, _) = try await remote.submit("EP-BENCH", s)
                        seen = .init(seq: e.seq, hash: e.hash)
                        i += lanes
                    }
                }
            }
            try await g.waitForAll()
        }
        let http = Double(total) / seconds(nowNS() - t0)

        // 9b: 100 subscribers at the head, 16 writers; each event carries its send time.
        let subscribers = c.smoke ? 20 : 100, writers = 16, each = c.smoke ? 5 : 40
        let start = try await headSeen(remote).seq + 1
        let expected = writers * each
        let latencies = Latencies()
        try await withThrowingTaskGroup(of: Void.self) { g in
            for _ in 0..<subscribers {
                g.addTask {
                    var got = 0
                    for try await (_, line) in try await remote.stream("EP-BENCH", from: start) {
                        let now = DispatchTime.now().uptimeNanoseconds
                        if let sent = Self.sentAt(line) { latencies.add(Double(now - sent) / 1e9) }
                        got += 1
                        if got == expected { break }
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(500))  // every stream is open and at the head
            for w in 0..<writers {
                g.addTask {
                    var seen = try await headSeen(remote)
                    for _ in 0..<each {
                        let sent = DispatchTime.now().uptimeNanoseconds
                        let s = SignedStatement(Statement(plan: "EP-BENCH", task: "L\(w + 1)", persona: Fixture.persona, keyID: key.publicKey.keyID,
                                                          type: .achievement, data: ["summary": .string("t=\(sent)")],
                                                          at: Timestamp.string(Date()), seen: seen), signer: key)
                        let (e, _) = try await remote.submit("EP-BENCH", s)
                        seen = .init(seq: e.seq, hash: e.hash)
                    }
                }
            }
            try await g.waitForAll()
        }
        let lat = latencies.all.sorted()
        guard lat.count == subscribers * expected else { throw BenchError("9b: \(lat.count) deliveries, expected \(subscribers * expected)") }
        let p50 = lat[lat.count / 2], p99 = lat[min(lat.count - 1, Int(Double(lat.count) * 0.99))]

        // 9c: the CLI, spawned, through the server and on the workspace.
        let cli = try Paths.logbookCLI()
        func update(_ i: Int, remote: Bool) -> [String] {
            [cli, "task", "progress", "L\(i % lanes + 1)", "--percent", String(i % 101), "--note", note, "--persona", Fixture.persona]
                + (remote ? ["--server", url, "--key-file", ws.keyPath(Fixture.persona)] : ["--workspace", ws.root])
        }
        var tRemote: [Double] = [], tLocal: [Double] = []
        for i in -1..<c.cliRuns {
            let a = try Child.run(update(i + 1, remote: true)).seconds
            let b = try Child.run(update(i + 1, remote: false)).seconds
            if i >= 0 { tRemote.append(a); tLocal.append(b) }
        }
        let (pr, pl) = (median(tRemote), median(tLocal))
        await group.triggerGracefulShutdown()
        try await running.value
        return [
            Row(id: "9a", scenario: "HTTP append, \(lanes) clients, one plan (signed by the clients)", logbook: fmtRate(http),
                baseline: fmtRate(rate3) + " in-process (row 3)", ratio: http / rate3, target: "≥ 0.5 × row 3", met: http / rate3 >= 0.5),
            Row(id: "9b", scenario: "append → SSE delivery, \(subscribers) streams, \(writers) writers: p99 (p50 \(fmtMS(p50)))",
                logbook: fmtMS(p99), baseline: "50 ms", ratio: p99 / 0.05, target: "p99 ≤ 50 ms", met: p99 <= 0.05),
            Row(id: "9c", scenario: "CLI update through the server (--server), p50", logbook: fmtMS(pr),
                baseline: fmtMS(pl) + " local CLI update", ratio: pr / pl, target: "(informational)", met: nil),
        ]
    }

    /// Row 3's events per second, from its printed figure's source.
    static func rate(of row: Row) -> Double { ServerPath.lastRate }

    static func headSeen(_ remote: RemoteLogbook) async throws -> Statement.Seen {
        let p = try await remote.planSummary("EP-BENCH")
        guard let seq = p["head_seq"]?.intValue, let h = p["head_hash"]?.stringValue.flatMap(Digest256.init) else {
            throw BenchError("the server reports no head")
        }
        return .init(seq: seq, hash: h)
    }

    /// The send time an event's summary carries (`"summary":"t=<ns>"`).
    static let sentAtNeedle = Array("\"summary\":\"t=".utf8)
    static func sentAt(_ line: [UInt8]) -> UInt64? {
        let needle = sentAtNeedle
        guard line.count > needle.count else { return nil }
        var i = 0
        while i + needle.count <= line.count {
            if line[i] == needle[0], line[i..<(i + needle.count)].elementsEqual(needle) {
                var n: UInt64 = 0
                var j = i + needle.count
                while j < line.count, line[j] >= 0x30, line[j] <= 0x39 { n = n * 10 + UInt64(line[j] - 0x30); j += 1 }
                return n
            }
            i += 1
        }
        return nil
    }
}

/// Deliveries' latencies, from every subscriber task.
final class Latencies: Sendable {
    let values = Mutex<[Double]>([])
    func add(_ v: Double) { values.withLock { $0.append(v) } }
    var all: [Double] { values.withLock { $0 } }
}
