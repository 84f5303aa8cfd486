import Foundation
import Hummingbird
import HummingbirdTesting
import LogbookCore
import LogbookEngine
import LogbookServer
import Metrics
import Prometheus
import ServiceLifecycle
import Testing

/// The metrics registry of this test process: swift-metrics is bootstrapped once per process,
/// with the factory `logbook serve` uses.
enum TestMetrics {
    static let registry: PrometheusCollectorRegistry = {
        let r = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(LogbookServer.metricsFactory(registry: r))
        return r
    }()
}

/// An engine on the memory backend with SUPERVISOR and WORKER and a locked plan (tasks T1, T2
/// for WORKER, T2 after T1), and a server over it.
struct ServerFixture: Sendable {
    let engine: LogbookEngine
    let file: PlanFile
    let server: LogbookServer

    static let planID = "EP-SERVER"

    static func make(tasks: Int = 2, readToken: String? = nil, streamStallLimit: Duration = .seconds(30),
                     streamKeepAlive: Duration = .seconds(15), cockpitDirectory: String? = nil) async throws -> ServerFixture {
        _ = TestMetrics.registry
        let engine = LogbookEngine(storage: .memory(), options: .init(observeCommit: ServerMetrics.observeCommit))
        _ = try await engine.addPersona("SUPERVISOR", role: .supervisor, archetype: "SUPERVISOR")
        _ = try await engine.addPersona("WORKER", role: .worker, archetype: "IMPLEMENTER")
        _ = try await engine.addPersona("OTHER", role: .worker, archetype: "IMPLEMENTER")
        _ = try await engine.importPlan(bytes: CanonicalJSON.bytes(planJSON(tasks: tasks)), name: "plan.json")
        let (file, _) = try await engine.lockPlan(planID, persona: "SUPERVISOR", signer: try await engine.signingKey(for: "SUPERVISOR"))
        let server = LogbookServer(engine: engine, configuration: .init(port: 0, readToken: readToken, streamStallLimit: streamStallLimit,
                                                                                  streamKeepAlive: streamKeepAlive, cockpitDirectory: cockpitDirectory),
                                    registry: TestMetrics.registry)
        return ServerFixture(engine: engine, file: file, server: server)
    }

    /// T1 … Tn for WORKER, each after the one before.
    static func planJSON(tasks: Int) -> JSONValue {
        func task(_ k: Int) -> JSONValue {
            ["task_id": .string("T\(k)"), "title": .string("Task \(k)"), "assigned_agent_persona": "WORKER",
             "authorized_agent_archetypes": [], "max_retries": 0, "dependencies": k == 1 ? [] : [.string("T\(k - 1)")],
             "inputs": [], "outputs": [], "execution_checklist": [], "criticality": "MEDIUM", "notes": ""]
        }
        return ["payload": ["execution_plan_id": .string(planID), "plan_type": "CONSTRUCT",
                            "plan_definition": ["goal": "server tests", "scope_summary": "", "exclusions_summary": ""],
                            "tasks": .array((1...tasks).map(task))]]
    }

    var book: StatusBook { get async throws { try await engine.book(file) } }

    /// A statement signed by `persona` (its own key unless `signer` says otherwise), having seen
    /// the book's head now.
    func signed(_ type: EventType, task: String?, persona: String = "WORKER", data: JSONObject = JSONObject(),
                idempotencyKey: String? = nil, plan: String = ServerFixture.planID, signer: SigningKey? = nil,
                note: String = UUID().uuidString) async throws -> SignedStatement {
        let key: SigningKey
        if let signer { key = signer } else { key = try await engine.signingKey(for: persona) }
        let state = try await book.state()
        var d = data
        if type == .achievement, d["summary"] == nil { d["summary"] = .string(note) }
        let st = Statement(plan: plan, task: task, persona: persona, keyID: key.publicKey.keyID, type: type, data: d,
                           idempotencyKey: idempotencyKey, at: Timestamp.string(Date()), seen: .init(seq: state.seq, hash: state.head!))
        return SignedStatement(st, signer: key)
    }

    /// The journal's lines, durable, as stored.
    func journalLines() async throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        try await engine.journals.forEachLine(file.journalRef) { out.append($0.bytes) }
        return out
    }

    /// The POST body of a signed statement, as a client sends it.
    static func body(_ s: SignedStatement) -> ByteBuffer {
        var o = JSONObject([("stmt", try! JSONParser.parse(s.bytes))])
        if let sig = s.sig { o["sig"] = .string(Base64.encode(sig)) }
        return ByteBuffer(bytes: CanonicalJSON.bytes(.object(o)))
    }

    /// The server in-process (HummingbirdTesting's router framework: no sockets).
    func withRouter<T: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        try await Application(router: server.router()).test(.router, body)
    }

    /// The server on a real loopback port (any free one) while `body` runs, then shut down
    /// gracefully.
    func withLive<T: Sendable>(_ body: @Sendable (_ url: String) async throws -> T) async throws -> T {
        let port = PortBox()
        let group = ServiceGroup(configuration: .init(services: [server.service { _, p in port.set(p) }], logger: .init(label: "test")))
        return try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask { try await group.run(); return nil }
            let p = try await port.wait()
            let result = try await body("http://127.0.0.1:\(p)")
            await group.triggerGracefulShutdown()
            for try await _ in tasks {}
            return result
        }
    }
}

/// The port the server reports once it listens.
final class PortBox: Sendable {
    let value = Mutex<Int?>(nil)
    func set(_ p: Int) { value.withLock { $0 = p } }
    func wait() async throws -> Int {
        for _ in 0..<500 {
            if let p = value.withLock({ $0 }) { return p }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw LogbookError(.io, "the server did not start listening within 5 s")
    }
}

extension TestResponse {
    var bytes: [UInt8] { Array(buffer: body) }
    var json: JSONValue? { try? JSONParser.parse(bytes) }
    /// The `{"error": {...}}` object's members.
    var error: JSONObject? { json?["error"]?.objectValue }
}

import Synchronization
