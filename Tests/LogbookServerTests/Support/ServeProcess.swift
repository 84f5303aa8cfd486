import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import LogbookStoreConformance

/// The real `logbook` binary: `logbook serve` as a child process, and one-shot commands.
final class ServeProcess: @unchecked Sendable {
    let pid: pid_t
    let port: Int
    let outPath: String
    let errPath: String
    private let reaped = NSLock()
    private var status: Int32?

    /// The built `logbook` binary, beside the test bundle (or $LOGBOOK_BIN).
    static var binary: String { Spawn.logbookBinary }

    static var environment: [String: String] {
        var e = ProcessInfo.processInfo.environment
        for k in ["LOGBOOK_WORKSPACE", "LOGBOOK_PERSONA", "LOGBOOK_KEY_FILE", "LOGBOOK_SERVER", "LOGBOOK_READ_TOKEN", "TRACEPARENT"] { e.removeValue(forKey: k) }
        return e
    }

    /// Starts `logbook serve --workspace ws --port port args…` (posix_spawn, as every CLI test
    /// spawns: Foundation's Process is not safe in a test process with many descriptors) and
    /// waits for its `listening on http://HOST:PORT` line.
    init(workspace: String, port: Int = 0, _ args: [String] = []) throws {
        let base = NSTemporaryDirectory() + "logbook-serve-\(getpid())-\(UUID().uuidString.prefix(8))"
        outPath = base + ".out"
        errPath = base + ".err"
        pid = try Spawn.start(Self.binary, ["serve", "--workspace", workspace, "--port", String(port)] + args,
                              environment: Self.environment, stdout: outPath, stderr: errPath)
        let deadline = Date().addingTimeInterval(30)
        var found: Int?
        while found == nil, Date() < deadline {
            let text = String(decoding: FileManager.default.contents(atPath: outPath) ?? Data(), as: UTF8.self)
            if let r = text.range(of: "listening on http://127.0.0.1:"), text[r.upperBound...].contains("\n") {
                found = Int(text[r.upperBound...].prefix { $0.isNumber })
            } else {
                Thread.sleep(forTimeInterval: 0.01)
            }
        }
        guard let found else {
            Glibc.kill(pid, SIGKILL)
            _ = try? Spawn.wait(pid)
            let e = String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self)
            throw LogbookError(.io, "logbook serve did not print its listening line within 30 s; stderr: \(e)")
        }
        self.port = found
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// SIGTERM, then the exit status.
    @discardableResult
    func terminate() -> Int32 { stop(SIGTERM) }

    /// SIGKILL: no shutdown at all.
    func kill() { _ = stop(SIGKILL) }

    private func stop(_ signal: Int32) -> Int32 {
        reaped.withLock {
            if let status { return status }
            Glibc.kill(pid, signal)
            let s = (try? Spawn.wait(pid)) ?? -1
            status = s
            unlink(outPath)
            unlink(errPath)
            return s
        }
    }

    deinit { _ = stop(SIGKILL) }

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// ``logbook(_:env:)`` on a thread of its own, for a command that waits.
    static func background(_ args: [String], env: [String: String] = [:]) async throws -> Run {
        try await withCheckedThrowingContinuation { c in
            Thread { c.resume(with: Result { try logbook(args, env: env) }) }.start()
        }
    }

    /// Runs `logbook args` to the end.
    @discardableResult
    static func logbook(_ args: [String], env: [String: String] = [:]) throws -> Run {
        var environment = Self.environment
        for (k, v) in env { environment[k] = v }
        let r = try Spawn.run(binary, args, environment: environment)
        return Run(status: r.status, stdout: String(decoding: r.stdout, as: UTF8.self), stderr: String(decoding: r.stderr, as: UTF8.self))
    }
}

/// A file workspace with SUPERVISOR, WORKER, OTHER and the locked plan of ``ServerFixture``.
enum FileWorkspace {
    static func make(tasks: Int = 2) async throws -> (Workspace, PlanFile) {
        let path = NSTemporaryDirectory() + "/logbook-server-test-\(UUID().uuidString.prefix(8))"
        let ws = try Workspace.create(at: path)
        let engine = ws.engine
        _ = try await engine.addPersona("SUPERVISOR", role: .supervisor)
        _ = try await engine.addPersona("WORKER", role: .worker, archetype: "IMPLEMENTER")
        _ = try await engine.addPersona("OTHER", role: .worker, archetype: "IMPLEMENTER")
        _ = try await engine.importPlan(bytes: CanonicalJSON.bytes(ServerFixture.planJSON(tasks: tasks)), name: "plan.json")
        let (file, _) = try await engine.lockPlan(ServerFixture.planID, persona: "SUPERVISOR", signer: try await engine.signingKey(for: "SUPERVISOR"))
        return (ws, file)
    }
}

import Glibc
import Synchronization
