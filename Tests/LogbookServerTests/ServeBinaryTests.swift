import Foundation
import LogbookClient
import LogbookCore
import LogbookEngine
import LogbookFileStore
import LogbookStoreConformance
import Testing

/// The real `logbook serve` binary on a file workspace, and the CLI as its remote client.
@Suite(.serialized) struct ServeBinaryTests {
    @Test func serveSaysWhereItListensAndStopsOnSIGTERM() async throws {
        let (ws, _) = try await FileWorkspace.make()
        let server = try ServeProcess(workspace: ws.root)
        #expect(server.port > 0, "--port 0 picked a free port and printed it")
        let health = try ServeProcess.logbook(["plan", "list", "--server", server.url, "--json"])
        #expect(health.status == 0, "\(health.stderr)")
        #expect(health.stdout.contains("\"plan_id\":\"EP-SERVER\""))
        #expect(server.terminate() == 0, "a graceful stop exits 0")
    }

    @Test func anotherAddressNeedsAReadToken() async throws {
        let (ws, _) = try await FileWorkspace.make()
        let r = try ServeProcess.logbook(["serve", "--workspace", ws.root, "--host", "0.0.0.0", "--port", "0"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("needs --read-token-file"), "\(r.stderr)")
        let short = NSTemporaryDirectory() + "/short-token-\(UUID().uuidString.prefix(6))"
        try "abc".write(toFile: short, atomically: true, encoding: .utf8)
        let r2 = try ServeProcess.logbook(["serve", "--workspace", ws.root, "--host", "0.0.0.0", "--port", "0", "--read-token-file", short])
        #expect(r2.status == 2)
        #expect(r2.stderr.contains("at least 16"))
    }

    /// A remote agent's events are the same journal lines a local one writes; reads through the
    /// server print what local reads print; a refusal is the same line and exit code.
    @Test func theRemoteCLIWritesWhatTheLocalCLIWrites() async throws {
        let (ws, file) = try await FileWorkspace.make()
        let server = try ServeProcess(workspace: ws.root)
        defer { server.terminate() }
        let key = ws.keyPath("WORKER")
        let remote = ["--server", server.url, "--key-file", key]
        let local = ["--workspace", ws.root]

        let started = try ServeProcess.logbook(["task", "start", "T1", "--persona", "WORKER", "--json"] + remote)
        #expect(started.status == 0, "\(started.stderr)")
        let p1 = try ServeProcess.logbook(["task", "progress", "T1", "--percent", "40", "--note", "remote", "--persona", "WORKER", "--json"] + remote)
        let p2 = try ServeProcess.logbook(["task", "progress", "T1", "--percent", "60", "--note", "local", "--persona", "WORKER", "--json"] + local)
        #expect(p1.status == 0 && p2.status == 0, "\(p1.stderr) \(p2.stderr)")
        let lines = try String(contentsOfFile: ws.store.journalPath(file.journalRef), encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines[1] + "\n" == started.stdout, "the remote command prints the journal line it caused")
        #expect(lines[2] + "\n" == p1.stdout)
        // Same members, same statement members; only the data, times, heads, signature and hash differ.
        let r = try JSONParser.parse(Array(lines[2].utf8)).objectValue!, l = try JSONParser.parse(Array(lines[3].utf8)).objectValue!
        #expect(r.keys == l.keys)
        #expect(r["stmt"]!.objectValue!.keys == l["stmt"]!.objectValue!.keys)
        #expect(r["stmt"]?["key_id"] == l["stmt"]?["key_id"])

        // Reads: byte for byte what the local command prints.
        for args in [["status", "--json"], ["status"], ["log"], ["log", "--json"], ["log", "--task", "T1", "--from", "2"],
                     ["plan", "list"], ["plan", "list", "--json"], ["verify"], ["verify", "--json"],
                     ["task", "list"], ["task", "list", "--json"], ["task", "list", "--ready", "--json"], ["task", "show", "T1"],
                     ["task", "show", "T1", "--json"], ["task", "show", "T2", "--json"]] {
            let a = try ServeProcess.logbook(args + ["--server", server.url]), b = try ServeProcess.logbook(args + local)
            #expect(a.status == b.status, "\(args)")
            #expect(a.stdout == b.stdout, "\(args): \(a.stdout) vs \(b.stdout)")
        }
        // A refusal: the same line, the same exit code, the same --json object; nothing written.
        for extra in [[], ["--json"]] {
            let a = try ServeProcess.logbook(["task", "start", "T2", "--persona", "WORKER"] + extra + remote)
            let b = try ServeProcess.logbook(["task", "start", "T2", "--persona", "WORKER"] + extra + local)
            #expect(a.status == 3 && b.status == 3)
            #expect(a.stderr == b.stderr, "\(a.stderr) vs \(b.stderr)")
        }
        let wrongPersona = try ServeProcess.logbook(["task", "progress", "T1", "--percent", "70", "--persona", "OTHER", "--key-file", ws.keyPath("OTHER"), "--server", server.url])
        #expect(wrongPersona.status == 3, "\(wrongPersona.stderr)")
        #expect(wrongPersona.stderr.contains("rule assignee"))
        let verify = try ServeProcess.logbook(["verify"] + local)
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(try String(contentsOfFile: ws.store.journalPath(file.journalRef), encoding: .utf8).split(separator: "\n").count == 4)
    }

    @Test func noRequestCarriesKeyMaterial() async throws {
        let (ws, _) = try await FileWorkspace.make()
        let server = try ServeProcess(workspace: ws.root)
        defer { server.terminate() }
        let proxy = try RecordingProxy(upstreamPort: server.port)
        defer { proxy.stop() }
        let url = "http://127.0.0.1:\(proxy.port)"
        let keyText = try String(contentsOfFile: ws.keyPath("WORKER"), encoding: .utf8)
        let r = try ServeProcess.logbook(["task", "start", "T1", "--persona", "WORKER", "--key-file", ws.keyPath("WORKER"), "--server", url])
        #expect(r.status == 0, "\(r.stderr)")
        let sent = proxy.recorded
        let text = String(decoding: sent, as: UTF8.self)
        #expect(text.contains("POST /v1/plans/EP-SERVER/statements"), "the write went through the proxy")
        let seedB64 = keyText.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.hasPrefix("#") && !$0.isEmpty }
        #expect(!seedB64.isEmpty)
        for s in seedB64 { #expect(!text.contains(s), "the private key's text crossed the wire") }
        let seed = try TestKey.seed(ws.keyPath("WORKER"))
        #expect(!sent.contains(seed), "the private key's bytes crossed the wire")
        #expect(!text.contains("WORKER.key"), "no key path is sent")
        // The body is the statement and its signature, nothing else.
        let body = try #require(text.range(of: "\r\n\r\n{\"stmt\"").map { String(text[text.index($0.lowerBound, offsetBy: 2)...]) })
        let v = try JSONParser.parse(Array(body.prefix { $0 != "\r" }.utf8))
        #expect(Set(v.objectValue!.keys) == ["stmt", "sig"])
    }

    /// 32 remote writers, hundreds of statements each, while the server is SIGKILLed and
    /// restarted: every acknowledged statement is in the journal exactly once, and it verifies.
    @Test func aServerKilledMidLoadLosesNothingAcknowledged() async throws {
        let (ws, file) = try await FileWorkspace.make(tasks: 1)
        let engine = ws.engine
        let key = try await engine.signingKey(for: "WORKER")
        let current = ServerBox(try ServeProcess(workspace: ws.root))
        let port = current.server.port
        let remote = try RemoteLogbook(server: current.server.url, timeout: .seconds(10))
        let (start, _) = try await remote.submit(ServerFixture.planID, SignedStatement(Statement(plan: ServerFixture.planID, task: "T1", persona: "WORKER",
            keyID: key.publicKey.keyID, type: .started, at: Timestamp.string(Date()), seen: .init(seq: -1, hash: file.document.digest)), signer: key))
        let writers = 32, each = 100
        let acknowledged = Acks()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<writers {
                group.addTask {
                    // Each writer's statements have seen the head it last heard of (its own last event).
                    var seen = Statement.Seen(seq: start.seq, hash: start.hash)
                    for n in 0..<each {
                        let summary = "writer \(w) statement \(n)"
                        let s = SignedStatement(Statement(plan: ServerFixture.planID, task: "T1", persona: "WORKER", keyID: key.publicKey.keyID,
                                                          type: .achievement, data: ["summary": .string(summary)], idempotencyKey: summary,
                                                          at: Timestamp.string(Date()), seen: seen), signer: key)
                        // The same signed statement until it is acknowledged: a retry is recorded once.
                        var tries = 0
                        while true {
                            do {
                                let (e, _) = try await remote.submit(ServerFixture.planID, s)
                                acknowledged.set(summary, e.seq)
                                seen = .init(seq: e.seq, hash: e.hash)
                                break
                            } catch let e as LogbookError where e.code == .unavailable {
                                tries += 1
                                if tries > 600 { throw e }
                                try await Task.sleep(for: .milliseconds(50))
                            }
                        }
                    }
                }
            }
            // Kill the server once a third is acknowledged; start it again on the same port.
            group.addTask {
                while acknowledged.count < writers * each / 3 { try await Task.sleep(for: .milliseconds(5)) }
                let before = acknowledged.count
                current.server.kill()
                acknowledged.killedAt = before
                try await Task.sleep(for: .milliseconds(300))
                current.server = try ServeProcess(workspace: ws.root, port: port)
            }
            try await group.waitForAll()
        }
        defer { current.server.terminate() }
        #expect(acknowledged.killedAt > 0 && acknowledged.killedAt < writers * each, "killed mid-load")
        let acks = acknowledged.all
        #expect(acks.count == writers * each)
        // The journal: each statement exactly once, at the seq acknowledged.
        var found: [String: Int] = [:]
        var dup = 0
        try await engine.journals.forEachLine(file.journalRef) { line in
            let e = try Event(line: line.bytes)
            guard e.type == .achievement, let s = e.data["summary"]?.stringValue else { return }
            if found[s] != nil { dup += 1 }
            found[s] = e.seq
        }
        #expect(dup == 0, "no statement recorded twice")
        #expect(found == acks, "every acknowledged statement, at the seq it was acknowledged with")
        let report = try await engine.verify(file)
        #expect(report.ok, "\(report.failure?.description ?? "")")
    }

    /// A stream client reads N events, the server is killed and restarted, M more land
    /// meanwhile: reconnecting from its last id it gets exactly the M.
    @Test func aServerRestartBetweenStreamReadsLosesNothing() async throws {
        let (ws, file) = try await FileWorkspace.make(tasks: 1)
        var server = try ServeProcess(workspace: ws.root)
        let port = server.port
        let local = ["--workspace", ws.root]
        #expect(try ServeProcess.logbook(["task", "start", "T1", "--persona", "WORKER"] + local).status == 0)
        for k in 0..<3 { #expect(try ServeProcess.logbook(["task", "achieve", "T1", "--summary", "a\(k)", "--persona", "WORKER"] + local).status == 0) }
        let remote = try RemoteLogbook(server: server.url)
        let first = try await StreamTests.take(5, try await remote.stream(ServerFixture.planID, from: 0))
        #expect(first.map(\.0) == [0, 1, 2, 3, 4])
        server.kill()
        for k in 0..<4 { #expect(try ServeProcess.logbook(["task", "achieve", "T1", "--summary", "b\(k)", "--persona", "WORKER"] + local).status == 0) }
        server = try ServeProcess(workspace: ws.root, port: port)
        defer { server.terminate() }
        let again = try await StreamTests.take(4, try await remote.stream(ServerFixture.planID, from: 5))
        #expect(again.map(\.0) == [5, 6, 7, 8])
        let lines = try String(contentsOfFile: ws.store.journalPath(file.journalRef), encoding: .utf8).split(separator: "\n").map { Array($0.utf8) }
        #expect(again.map(\.1) == Array(lines[5...]))
    }
}

extension ServeBinaryTests {
    /// Server down → the outbox keeps the signed statements → server up → flush → each recorded
    /// once; a statement that became illegal meanwhile is reported and kept, not dropped.
    @Test func theOutboxKeepsWhatTheServerCouldNotTakeAndFlushesItOnce() async throws {
        let (ws, file) = try await FileWorkspace.make(tasks: 2)
        var server = try ServeProcess(workspace: ws.root)
        let port = server.port
        let box = NSTemporaryDirectory() + "/logbook-outbox-\(UUID().uuidString.prefix(8))"
        let worker = ["--persona", "WORKER", "--key-file", ws.keyPath("WORKER"), "--server", server.url, "--outbox"]
        let env = ["LOGBOOK_OUTBOX": box]
        #expect(try ServeProcess.logbook(["task", "start", "T1"] + worker, env: env).status == 0)
        server.kill()
        for k in 0..<3 {
            let r = try ServeProcess.logbook(["task", "achieve", "T1", "--summary", "offline \(k)"] + worker, env: env)
            #expect(r.status == 11, "queued: \(r.stderr)")
            #expect(r.stderr.contains("queued"))
        }
        // T2 cannot start (T1 is not done): queued all the same, refused at flush.
        #expect(try ServeProcess.logbook(["task", "start", "T2"] + worker, env: env).status == 11)
        let listed = try ServeProcess.logbook(["outbox", "list", "--json"], env: env)
        #expect(try JSONParser.parse(Array(listed.stdout.utf8)).arrayValue?.count == 4)
        let down = try ServeProcess.logbook(["outbox", "flush"], env: env)
        #expect(down.status == 10, "the server is still down: \(down.stderr)")
        server = try ServeProcess(workspace: ws.root, port: port)
        defer { server.terminate() }
        let flushed = try ServeProcess.logbook(["outbox", "flush"], env: env)
        #expect(flushed.status == 3, "one was refused: \(flushed.stderr)")
        #expect(flushed.stdout.split(separator: "\n").count == 3)
        #expect(flushed.stderr.contains("rule dependencies_done"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: box + "/refused").contains { $0.hasSuffix(".error") })
        // Again: nothing left to send, nothing recorded twice.
        #expect(try ServeProcess.logbook(["outbox", "flush"], env: env).status == 0)
        let summaries = try String(contentsOfFile: ws.store.journalPath(file.journalRef), encoding: .utf8).split(separator: "\n")
            .compactMap { try? Event(line: Array($0.utf8)) }.compactMap { $0.type == .achievement ? $0.data["summary"]?.stringValue : nil }
        #expect(summaries == ["offline 0", "offline 1", "offline 2"])
        #expect(try ServeProcess.logbook(["verify", "--workspace", ws.root]).status == 0)
    }

    /// `task wait` returns when the task gets there, locally and through the server; `--timeout` is exit 12.
    @Test func taskWaitReturnsWhenTheTaskGetsThere() async throws {
        let (ws, _) = try await FileWorkspace.make(tasks: 1)
        let server = try ServeProcess(workspace: ws.root)
        defer { server.terminate() }
        let local = ["--workspace", ws.root]
        #expect(try ServeProcess.logbook(["task", "start", "T1", "--persona", "WORKER"] + local).status == 0)
        let timedOut = try ServeProcess.logbook(["task", "wait", "T1", "--until", "DONE", "--timeout", "300ms"] + local)
        #expect(timedOut.status == 12)
        // Off Swift's cooperative threads: a blocking wait there would hold one of two threads.
        async let localWait = ServeProcess.background(["task", "wait", "T1", "--until", "DONE", "--timeout", "60s"] + local)
        async let remoteWait = ServeProcess.background(["task", "wait", "T1", "--until", "ANY", "--timeout", "60s", "--server", server.url])
        try await Task.sleep(for: .milliseconds(800))
        #expect(try ServeProcess.logbook(["task", "done", "T1", "--persona", "WORKER"] + local).status == 0)
        let (a, b) = try await (localWait, remoteWait)
        #expect(a.status == 0 && a.stdout == "T1 is DONE (seq 2)\n", "\(a.stdout) \(a.stderr)")
        #expect(b.status == 0 && b.stdout == "T1 is DONE (seq 2)\n", "\(b.stdout) \(b.stderr)")
    }
}

extension ServeBinaryTests {
    /// `log --follow` prints each new event as it becomes durable, locally and through the server.
    @Test func logFollowPrintsNewEventsAsTheyLand() async throws {
        let (ws, _) = try await FileWorkspace.make(tasks: 1)
        let server = try ServeProcess(workspace: ws.root)
        defer { server.terminate() }
        let local = ["--workspace", ws.root]
        #expect(try ServeProcess.logbook(["task", "start", "T1", "--persona", "WORKER"] + local).status == 0)
        var followers: [(pid: pid_t, out: String)] = []
        for extra in [local, ["--server", server.url]] {
            let out = NSTemporaryDirectory() + "/logbook-follow-\(UUID().uuidString.prefix(8)).out"
            let pid = try Spawn.start(ServeProcess.binary, ["log", "--follow", "--from", "1"] + extra, environment: ServeProcess.environment,
                                      stdout: out, stderr: "/dev/null")
            followers.append((pid, out))
        }
        defer { for f in followers { Glibc.kill(f.pid, SIGKILL); _ = try? Spawn.wait(f.pid); unlink(f.out) } }
        try await Task.sleep(for: .milliseconds(500))
        for k in 0..<3 { #expect(try ServeProcess.logbook(["task", "achieve", "T1", "--summary", "live \(k)", "--persona", "WORKER"] + local).status == 0) }
        for f in followers {
            var lines: [Substring] = []
            for _ in 0..<1000 {
                lines = String(decoding: FileManager.default.contents(atPath: f.out) ?? Data(), as: UTF8.self).split(separator: "\n")
                if lines.count >= 4 { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(lines.count == 4, "\(lines)")
            #expect(lines.first?.hasPrefix("seq 1 ") == true)
            #expect(lines.last?.contains("achievement T1 by WORKER: live 2") == true)
        }
    }
}

/// The server process a test restarts, shared with the task that restarts it.
final class ServerBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: ServeProcess
    init(_ s: ServeProcess) { value = s }
    var server: ServeProcess {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}

/// Acknowledged statements (summary → seq), from many writer tasks.
final class Acks: @unchecked Sendable {
    private let lock = NSLock()
    private var d: [String: Int] = [:]
    private var killed = 0
    func set(_ k: String, _ seq: Int) { lock.withLock { d[k] = seq } }
    var count: Int { lock.withLock { d.count } }
    var all: [String: Int] { lock.withLock { d } }
    var killedAt: Int {
        get { lock.withLock { killed } }
        set { lock.withLock { killed = newValue } }
    }
}

/// A key file's 32-byte seed, to look for on the wire.
enum TestKey {
    static func seed(_ path: String) throws -> [UInt8] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            if let b = Base64.decode(String(line).trimmingCharacters(in: .whitespaces)), b.count == 32 { return b }
        }
        throw LogbookError(.badKey, "no seed in \(path)")
    }
}

extension Array where Element == UInt8 {
    func contains(_ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return false }
        for i in 0...(count - needle.count) where self[i] == needle[0] && Array(self[i..<(i + needle.count)]) == needle { return true }
        return false
    }
}

import Synchronization
