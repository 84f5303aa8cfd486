import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Testing

/// Many writer processes on one journal; writers killed with SIGKILL mid-append.
@Suite(.serialized) struct MultiProcessTests {
    /// A workspace whose plan has one task per writer (L1…Ln), all assigned to LOADER.
    static func loadWorkspace(writers: Int) async throws -> (Workspace, PlanFile) {
        let ws = try Workspace.create(at: TestSupport.tempDirectory("mp"))
        try await ws.engine.addPersona("SUPERVISOR", role: .supervisor)
        try await ws.engine.addPersona("LOADER", role: .worker)
        let tasks: [JSONValue] = (1...writers).map { i in
            ["task_id": .string("L\(i)"), "title": .string("load \(i)"), "assigned_agent_persona": "LOADER", "max_retries": 0, "dependencies": []]
        }
        let plan: JSONValue = ["payload": ["execution_plan_id": "EP-LOAD", "plan_definition": ["goal": "load"], "tasks": .array(tasks)]]
        _ = try await ws.engine.importPlan(bytes: CanonicalJSON.bytes(plan), name: "load.json")
        let (file, _) = try await ws.engine.lockPlan("EP-LOAD", persona: "SUPERVISOR", signer: try await ws.engine.signingKey(for: "SUPERVISOR"))
        return (ws, file)
    }

    static func writer(_ ws: Workspace, task: String, count: Int, ack: String, concurrency: Int = 1) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestSupport.binary)
        p.arguments = ["append-load", "--workspace", ws.root, "--persona", "LOADER", "--task", task, "--count", String(count),
                       "--ack-file", ack, "--concurrency", String(concurrency), "--note-bytes", "200"]
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// Every `seq hash` line in the ack files.
    static func acks(_ files: [String]) -> [(Int, String)] {
        files.flatMap { f -> [(Int, String)] in
            let text = (try? String(contentsOfFile: f, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { line in
                let parts = line.split(separator: " ")
                guard parts.count == 2, let s = Int(parts[0]), parts[1].count == 64 else { return nil }  // a torn ack line was never complete
                return (s, String(parts[1]))
            }
        }
    }

    static func events(_ ws: Workspace, _ file: PlanFile) async throws -> [Event] {
        var out: [Event] = []
        try await ws.store.forEachLine(file.journalRef) { out.append(try Event(line: $0.bytes)) }
        return out
    }

    @Test func eightWriterProcessesAppendAtOnceWithNoLostOrDuplicatedEvent() async throws {
        let writers = 8, count = 200
        let (ws, file) = try await Self.loadWorkspace(writers: writers)
        let dir = TestSupport.tempDirectory("acks")
        let ackFiles = (1...writers).map { "\(dir)/ack-\($0)" }
        let procs = try (1...writers).map { try Self.writer(ws, task: "L\($0)", count: count, ack: ackFiles[$0 - 1]) }
        for p in procs { p.waitUntilExit() }
        #expect(procs.allSatisfy { $0.terminationStatus == 0 })

        let events = try await Self.events(ws, file)
        #expect(events.count == 1 + writers * (count + 1))  // genesis + per writer: started + count progress
        #expect(events.map(\.seq) == Array(0..<events.count))
        let acks = Self.acks(ackFiles)
        #expect(acks.count == writers * count)
        let bySeq = Dictionary(uniqueKeysWithValues: events.map { ($0.seq, $0.hash.hex) })
        for (seq, hash) in acks { #expect(bySeq[seq] == hash, "acknowledged seq \(seq) missing or different") }
        #expect(Set(acks.map(\.0)).count == acks.count)
        let report = try await ws.engine.verify(file)
        #expect(report.ok, "\(report.failure?.description ?? "")")
        #expect(report.events == events.count)
    }

    @Test func writersKilledWithSIGKILLLoseNothingAcknowledged() async throws {
        let rounds = Int(ProcessInfo.processInfo.environment["LOGBOOK_KILL_ROUNDS"] ?? "") ?? 12
        let (ws, file) = try await Self.loadWorkspace(writers: 3)
        let dir = TestSupport.tempDirectory("kill")
        var ackFiles: [String] = []
        var rng = SystemRandomNumberGenerator()
        // How much the writers acknowledge before the kill depends on the machine's speed: past
        // the planned rounds, keep killing (at most 3 × as many rounds, at most 2 minutes more),
        // aiming later each time, until they acknowledged enough to test anything.
        var round = 0, latest = 400
        let clock = ContinuousClock(), start = clock.now
        var stoppedAtBound = false
        while round < rounds || Self.acks(ackFiles).count <= rounds {
            if round >= rounds, round >= 4 * rounds || clock.now - start >= .seconds(120) {
                stoppedAtBound = true  // a machine too busy for even the extra rounds: audited all the same
                break
            }
            if round >= rounds { latest = min(4000, latest + latest / 2) }
            // Three writers at once, each killed at a random moment.
            var procs: [Process] = []
            for w in 1...3 {
                let ack = "\(dir)/ack-\(round)-\(w)"
                ackFiles.append(ack)
                procs.append(try Self.writer(ws, task: "L\(w)", count: 100_000, ack: ack, concurrency: w))
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 60...latest, using: &rng)))
            for p in procs { kill(p.processIdentifier, SIGKILL) }
            for p in procs { p.waitUntilExit() }
            round += 1
        }
        let torn = try ws.store.tornTailBytes(file.journalRef)
        _ = try ws.store.recover(file.journalRef)
        #expect(try ws.store.tornTailBytes(file.journalRef) == 0)
        let events = try await Self.events(ws, file)
        let bySeq = Dictionary(uniqueKeysWithValues: events.map { ($0.seq, $0.hash.hex) })
        let acks = Self.acks(ackFiles)
        #expect(acks.count > rounds || stoppedAtBound, "the writers acknowledged too little to test anything")
        for (seq, hash) in acks { #expect(bySeq[seq] == hash, "acknowledged seq \(seq) lost after kill -9") }
        #expect(events.map(\.seq) == Array(0..<events.count))
        let report = try await ws.engine.verify(file)
        #expect(report.ok, "\(report.failure?.description ?? "") (torn tail before recovery: \(torn) bytes)")
    }
}
