import ArgumentParser
import Foundation
import LogbookCore
import LogbookEngine
import LogbookServer
import Logging
import Metrics
import Prometheus

/// `logbook serve`: the workspace over HTTP (docs/API.md).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the workspace over HTTP: the JSON API, live event streams (SSE) and /metrics (docs/API.md).",
        discussion: """
            Prints `listening on http://HOST:PORT` when ready (--port 0 picks a free port). Loopback by \
            default; another address needs --read-token-file (reads then need `Authorization: Bearer …`). \
            Writes always need a persona's signature: the server holds no private key. SIGTERM or SIGINT \
            stops it gracefully (streams end with their last id, appends in flight finish).
            """)

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port (0: any free port).") var port = 8080
    @Option(name: .customLong("cockpit-dir"), help: ArgumentHelp("Serve the cockpit's files from this folder, read on each request (for working on the cockpit).", valueName: "DIR"))
    var cockpitDir: String?
    @OptionGroup var ws: WorkspaceOptions

    func run() async throws {
        guard (0...65535).contains(port) else { throw LogbookError(.badInput, "--port must be from 0 to 65535, got \(port)") }
        var token: String?
        // --read-token-file (shared with the client commands): here, the token reads must carry.
        if let readTokenFile = ws.readTokenFile {
            guard let data = FileManager.default.contents(atPath: readTokenFile) else {
                throw LogbookError(.notFound, "cannot read the read token file \(readTokenFile)", path: readTokenFile)
            }
            let t = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard t.utf8.count >= 16, t.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw LogbookError(.badInput, "the read token in \(readTokenFile) must be at least 16 printable ASCII characters", path: readTokenFile)
            }
            token = t
        }
        if !LogbookServer.isLoopback(host) {
            guard token != nil else {
                throw LogbookError(.badInput, "serving on \(host) (not loopback) needs --read-token-file F: reads would otherwise be open to the network")
            }
            Warning.print("serving on \(host), reachable from other machines: reads need the read token, writes a persona's signature; use TLS in front of it (a reverse proxy) on untrusted networks")
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(LogbookServer.metricsFactory(registry: registry))
        let engine = try ws.folder().engine(.init(observeCommit: ServerMetrics.observeCommit))
        _ = try await engine.catalog.loadState()
        var logger = Logger(label: "logbook.server")
        logger.logLevel = ProcessInfo.processInfo.environment["LOGBOOK_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        let server = LogbookServer(engine: engine, configuration: .init(host: host, port: port, readToken: token, cockpitDirectory: cockpitDir),
                                   registry: registry, logger: logger)
        try await server.run { host, port in
            let shown = host.contains(":") ? "[\(host)]" : host
            // Unbuffered: a supervisor waiting for this line gets it now, not at exit.
            FileHandle.standardOutput.write(Data("listening on http://\(shown):\(port)\n".utf8))
        }
    }
}
