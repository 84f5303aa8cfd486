import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import LogbookStoreConformance

/// The real `logbook` binary: `logbook serve` as a child process, and one-shot commands.
final class ServeProcess: @unchecked Sendable {
    let process: Process
    let port: Int
    let stderrPipe: Pipe

    /// The built `logbook` binary, beside the test bundle (or $LOGBOOK_BIN).
    static var binary: String {
        if let b = ProcessInfo.processInfo.environment["LOGBOOK_BIN"] { return b }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("logbook").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return "logbook"
    }

    static var environment: [String: String] {
        var e = ProcessInfo.processInfo.environment
        for k in ["LOGBOOK_WORKSPACE", "LOGBOOK_PERSONA", "LOGBOOK_KEY_FILE", "LOGBOOK_SERVER", "LOGBOOK_READ_TOKEN", "TRACEPARENT"] { e.removeValue(forKey: k) }
        return e
    }

    /// Starts `logbook serve --workspace ws --port port args…` and waits for its
    /// `listening on http://HOST:PORT` line.
    init(workspace: String, port: Int = 0, _ args: [String] = []) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        p.arguments = ["serve", "--workspace", workspace, "--port", String(port)] + args
        p.environment = Self.environment
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        process = p
        stderrPipe = err
        // The first line on stdout, read on another thread with a deadline.
        let line = Mutex<String?>(nil)
        let reader = Thread {
            var buffer = Data()
            while !buffer.contains(0x0A) {
                let d = out.fileHandleForReading.availableData
                if d.isEmpty { break }
                buffer.append(d)
            }
            line.withLock { $0 = String(decoding: buffer, as: UTF8.self) }
        }
        reader.start()
        let deadline = Date().addingTimeInterval(30)
        while line.withLock({ $0 }) == nil, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        guard let text = line.withLock({ $0 }), let r = text.range(of: "listening on http://127.0.0.1:"),
              let n = Int(text[r.upperBound...].prefix { $0.isNumber }) else {
            p.terminate()
            let e = String(decoding: err.fileHandleForReading.availableData, as: UTF8.self)
            throw LogbookError(.io, "logbook serve did not print its listening line: stdout \(line.withLock { $0 } ?? "(nothing)"), stderr \(e)")
        }
        self.port = n
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// SIGTERM, then the exit status.
    @discardableResult
    func terminate() -> Int32 {
        process.terminate()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// SIGKILL: no shutdown at all.
    func kill() {
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { if process.isRunning { kill() } }

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
