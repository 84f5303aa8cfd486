import Dispatch
import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore

/// Workspaces and journals for the scenarios: a plan of `tasks` tasks (L1…Ln) all assigned to
/// LOADER, locked by SUPERVISOR, and journals grown to a given length quickly (events signed on
/// all cores, written in large durable batches through the real store).
enum Fixture {
    static let persona = "LOADER"
    /// The note of every progress event: short, like a real one.
    static let noteText = "token bucket in place; 12 unit tests pass"
    /// The size of a progress event line with that note (about 507 bytes: the envelope with its
    /// hash, prev, key id and signature is most of it). The baselines write records of this size.
    static let recordBytes: Int = {
        let key = SigningKey(generatingFor: persona)
        let e = Event.make(seq: 123_456, prev: Digest256.of([1]), ts: Timestamp.string(Date()), g: 2, plan: "EP-BENCH", task: "L12",
                           persona: persona, type: .progress,
                           data: ["percent": 50, "note": .string(noteText)], signer: key)
        return e.line.count
    }()

    static func workspace(_ path: String, tasks: Int) async throws -> (Workspace, PlanFile) {
        try? FileManager.default.removeItem(atPath: path)
        let ws = try Workspace.create(at: path)
        try await ws.engine.addPersona("SUPERVISOR", role: .supervisor)
        try await ws.engine.addPersona(persona, role: .worker)
        let list: [JSONValue] = (1...tasks).map { i in
            ["task_id": .string("L\(i)"), "title": .string("load task \(i)"), "assigned_agent_persona": .string(persona),
             "max_retries": 0, "dependencies": []]
        }
        let plan: JSONValue = ["payload": ["execution_plan_id": "EP-BENCH", "plan_definition": ["goal": "benchmark"], "tasks": .array(list)]]
        _ = try await ws.engine.importPlan(bytes: CanonicalJSON.bytes(plan), name: "bench.json")
        let (file, _) = try await ws.engine.lockPlan("EP-BENCH", persona: "SUPERVISOR", signer: try await ws.engine.signingKey(for: "SUPERVISOR"))
        return (ws, file)
    }

    static func note() -> String { noteText }

    static func filler(_ n: Int) -> String {
        let words = "unit tests pass for the limiter; next the load test on staging with two replicas; "
        var s = ""
        while s.utf8.count < n { s += words }
        return String(s.utf8.prefix(n))!
    }

    static func progress(_ task: String, _ i: Int, note: String) -> EventRequest {
        EventRequest(type: .progress, task: task, persona: persona, data: ["percent": JSONValue(i % 101), "note": .string(note)])
    }

    /// Starts every task (real submits, 64 at a time, group committed).
    static func startAll(_ ws: Workspace, _ file: PlanFile) async throws {
        let book = try await ws.engine.book(file)
        let key = try await ws.engine.signingKey(for: persona)
        let ids = book.plan.tasks.map(\.id)
        try await withThrowingTaskGroup(of: Void.self) { g in
            for lane in 0..<64 {
                g.addTask {
                    var i = lane
                    while i < ids.count {
                        _ = try await book.submit(EventRequest(type: .started, task: ids[i], persona: persona), signer: key)
                        i += 64
                    }
                }
            }
            try await g.waitForAll()
        }
    }

    /// Appends progress events until the journal holds `total` events, then writes the snapshot,
    /// as a writer would have. Every task must be started.
    static func grow(_ ws: Workspace, _ file: PlanFile, to total: Int) async throws {
        let book = try await ws.engine.book(file)
        var state = try await book.state()
        let ref = file.journalRef
        let key = try await ws.engine.signingKey(for: persona)
        let kid = key.publicKey.keyID
        let g = try ws.readState().g
        let ids = book.plan.tasks.map(\.id)
        let note = Self.note()
        var cursor: Int64 = 0
        try await ws.store.forEachLine(ref) { cursor = $0.end }
        let chunk = 8192
        while state.seq + 1 < total {
            let n = min(chunk, total - state.seq - 1)
            let ts = Timestamp.string(Date())
            // Signing is not sequential (v2 signs the statement): it runs on every core. The
            // chain is: seq, prev and hash (which covers the signature), after it.
            var events: [Event] = []
            events.reserveCapacity(n)
            let prev0 = state.head!
            for k in 0..<n {
                let seq = state.seq + 1 + k
                var e = Event.make(seq: seq, prev: prev0, ts: ts, g: g, plan: file.id, task: ids[seq % ids.count], persona: persona,
                                   type: .progress,
                                   data: ["percent": JSONValue(seq % 101), "note": .string(note)],
                                   seen: Statement.Seen(seq: state.seq, hash: prev0), signer: nil)
                e.keyID = kid
                events.append(e)
            }
            nonisolated(unsafe) var shared = events
            shared.withUnsafeMutableBufferPointer { buf in
                nonisolated(unsafe) let b = buf
                let parts = ProcessInfo.processInfo.activeProcessorCount * 4
                DispatchQueue.concurrentPerform(iterations: parts) { p in
                    var k = p
                    while k < n {
                        b[k].sig = key.sign(message: b[k].signedBytes)
                        k += parts
                    }
                }
            }
            var prev = prev0
            var lines: [[UInt8]] = []
            lines.reserveCapacity(n)
            for k in 0..<n {
                shared[k].prev = prev
                shared[k].hash = shared[k].computedHash
                prev = shared[k].hash
                lines.append(shared[k].line)
            }
            for e in shared { try state.apply(e) }
            let batch = Array(lines)
            cursor = try await ws.store.append(ref, from: cursor) { newer in
                guard newer.isEmpty else { throw BenchError("another writer appended while the fixture was growing") }
                return batch
            }
        }
        try await ws.store.storeSnapshot(ref, PrettyJSON.bytes(state.snapshot()), seq: state.seq)
    }

    /// The journal's text (rotated segments, decompressed, plus the live file) and what it
    /// takes on disk (the gzip segments plus the live file), from the segment manifest.
    struct JournalSize {
        var textBytes: Int
        var liveBytes: Int
        var segmentTextBytes: Int
        var segmentGzipBytes: Int
        var segments: Int
    }

    static func journalSize(_ ws: Workspace, _ file: PlanFile) -> JournalSize {
        func size(_ path: String) -> Int {
            ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
        }
        let live = size(ws.store.journalPath(file.journalRef))
        var text = 0, gz = 0, n = 0
        let manifest = ws.root + "/exec_status_\(file.journalRef.g).segments.json"
        if let bytes = FileManager.default.contents(atPath: manifest), let m = try? JSONParser.parse(Array(bytes)) {
            for seg in m["segments"]?.arrayValue ?? [] {
                text += seg["bytes"]?.intValue ?? 0
                if let f = seg["file"]?.stringValue { gz += size(ws.root + "/" + f) }
                n += 1
            }
        }
        return JournalSize(textBytes: text + live, liveBytes: live, segmentTextBytes: text, segmentGzipBytes: gz, segments: n)
    }

    static func journalBytes(_ ws: Workspace, _ file: PlanFile) -> Int { journalSize(ws, file).textBytes }
}
