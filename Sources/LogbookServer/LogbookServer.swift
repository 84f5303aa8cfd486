import Foundation
import Hummingbird
import Logging
import LogbookCore
import LogbookEngine
import Metrics
import NIOCore
import Prometheus
import ServiceLifecycle

/// `logbook serve`: the JSON HTTP API over one engine (docs/API.md). Agents on other machines
/// post statements they signed themselves; watchers follow a plan's journal as Server-Sent
/// Events; operators scrape `/metrics`.
///
/// ```swift
/// let server = LogbookServer(engine: engine, configuration: .init(port: 0), registry: registry)
/// try await server.run { host, port in print("listening on http://\(host):\(port)") }
/// ```
///
/// The server never touches storage except through the engine, so it serves whatever backend
/// the engine was given.
public struct LogbookServer: Sendable {
    /// The largest request body (413 beyond it).
    public static let maxBodyBytes = 64 * 1024

    public struct Configuration: Sendable {
        public var host: String
        /// 0: any free port (the one chosen is passed to `onRunning`).
        public var port: Int
        /// When set, reads need `Authorization: Bearer <token>` (``ReadTokenMiddleware``).
        public var readToken: String?
        /// A connection with no request and no response activity for this long is closed.
        public var idleTimeout: Duration
        /// An event stream whose client has not taken a write for this long is closed (the
        /// client resumes from its last id).
        public var streamStallLimit: Duration
        /// A quiet event stream sends a comment this often (proxies close silent connections).
        public var streamKeepAlive: Duration
        /// Serve the cockpit's files from this folder, read per request (for cockpit
        /// development), instead of the built-in ones.
        public var cockpitDirectory: String?

        public init(host: String = "127.0.0.1", port: Int = 8080, readToken: String? = nil, idleTimeout: Duration = .seconds(60),
                    streamStallLimit: Duration = .seconds(30), streamKeepAlive: Duration = .seconds(15), cockpitDirectory: String? = nil) {
            self.streamKeepAlive = streamKeepAlive
            self.cockpitDirectory = cockpitDirectory
            self.host = host
            self.port = port
            self.readToken = readToken
            self.idleTimeout = idleTimeout
            self.streamStallLimit = streamStallLimit
        }
    }

    public let engine: LogbookEngine
    public let configuration: Configuration
    /// Where `/metrics` reads from: the registry of the Prometheus factory the process bootstrapped.
    public let registry: PrometheusCollectorRegistry
    public let logger: Logger
    let feeds: EventFeeds
    let cockpit: CockpitAssets
    let verifies = VerifyFlights()

    public init(engine: LogbookEngine, configuration: Configuration = .init(), registry: PrometheusCollectorRegistry,
                logger: Logger = Logger(label: "logbook.server")) {
        self.feeds = EventFeeds(stallLimit: configuration.streamStallLimit, keepAlive: configuration.streamKeepAlive)
        self.cockpit = CockpitAssets(folder: configuration.cockpitDirectory)
        self.engine = engine
        self.configuration = configuration
        self.registry = registry
        self.logger = logger
    }

    /// Whether `host` is a loopback address (served without a read token).
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// The Prometheus factory `logbook serve` bootstraps swift-metrics with: latency buckets from
    /// 100 µs to 10 s, batch-size buckets from 1 to 1,024.
    public static func metricsFactory(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var f = PrometheusMetricsFactory(registry: registry)
        f.defaultDurationHistogramBuckets = [.microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
                                             .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                                             .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1), .seconds(10)]
        f.defaultValueHistogramBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 1024]
        return f
    }

    /// Every route, behind the error mapping (and the read token when there is one).
    public func router() -> Router<ServerContext> {
        let router = Router(context: ServerContext.self)
        router.add(middleware: ErrorMiddleware())
        if let token = configuration.readToken { router.add(middleware: ReadTokenMiddleware(token: Array(token.utf8))) }
        PlanRoutes(engine: engine, verifies: verifies).add(to: router)
        EventRoutes(engine: engine, feeds: feeds).add(to: router)
        StatementRoutes(engine: engine).add(to: router)
        SupervisorRoutes(engine: engine).add(to: router)
        CockpitRoutes(assets: cockpit).add(to: router)
        let registry = self.registry
        router.get("/metrics") { _, _ in
            var text: [UInt8] = []
            registry.emit(into: &text)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: text)))
        }
        return router
    }

    /// The Hummingbird application: HTTP/1.1 with the idle timeout, on the configured address.
    public func application(onRunning: @escaping @Sendable (_ host: String, _ port: Int) async -> Void = { _, _ in })
        -> some ApplicationProtocol {
        let host = configuration.host
        return Application(
            router: router(),
            server: .http1(configuration: .init(idleTimeout: TimeAmount.nanoseconds(configuration.idleTimeout.nanoseconds))),
            configuration: .init(address: .hostname(host, port: configuration.port), serverName: "logbook"),
            onServerRunning: { channel in await onRunning(host, channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    /// The server as a service: on graceful shutdown it ends every event stream (each sends the
    /// last id it sent), then Hummingbird stops accepting and finishes the requests in flight
    /// (every append it acknowledges is durable).
    public func service(onRunning: @escaping @Sendable (_ host: String, _ port: Int) async -> Void = { _, _ in }) -> some Service {
        ServerService(app: application(onRunning: onRunning), feeds: feeds, verifies: verifies)
    }

    /// Runs until SIGTERM or SIGINT, then shuts down gracefully (swift-service-lifecycle).
    public func run(onRunning: @escaping @Sendable (_ host: String, _ port: Int) async -> Void = { _, _ in }) async throws {
        let group = ServiceGroup(configuration: .init(services: [service(onRunning: onRunning)],
                                                       gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

struct ServerService<App: ApplicationProtocol>: Service {
    let app: App
    let feeds: EventFeeds
    let verifies: VerifyFlights

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await app.run()
        } onGracefulShutdown: {
            feeds.closeAll()
            verifies.cancelAll()
        }
    }
}

extension Duration {
    var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}
