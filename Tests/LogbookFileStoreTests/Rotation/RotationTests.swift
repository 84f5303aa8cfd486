import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The live journal rotated into gzip segments: reads, rebuilds and verify across segments;
/// damaged segments named by verify; a crash at every step of a rotation repaired.
@Suite struct RotationTests {
    static let rotateBytes: Int64 = 4096

    /// A locked workspace seen through a store that rotates every 4 KiB, with T1 started.
    func rotating(_ name: String, ops: any FileOps = PosixFileOps()) async throws -> (Workspace, PlanFile) {
        let (base, file) = try await TestSupport.lockedWorkspace(name)
        let ws = Workspace(root: base.root, ops: ops, rotateBytes: Self.rotateBytes)
        return (ws, file)
    }

    func progress(_ ws: Workspace, _ book: StatusBook, _ i: Int) async throws -> Event {
        try await book.submit(EventRequest(type: .progress, task: "T1", persona: "WORKER",
                                           data: ["percent": JSONValue(i % 100), "note": .string(String(repeating: "n", count: 200))]),
                              signer: try await ws.engine.signingKey(for: "WORKER"))
    }

    func allLines(_ ws: Workspace, _ file: PlanFile) async throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        try await ws.store.forEachLine(file.journalRef, batchBytes: 1000) { out.append($0.bytes) }
        return out
    }

    @Test func eventsReadVerifyAndRebuildAcrossSegments() async throws {
        let (ws, file) = try await rotating("rot")
        let book = try await ws.engine.book(file)
        _ = try await book.submit(EventRequest(type: .started, task: "T1", persona: "WORKER"), signer: try await ws.engine.signingKey(for: "WORKER"))
        var acked: [Event] = []
        for i in 0..<150 { acked.append(try await progress(ws, book, i)) }

        let m = try ws.store.segments(file.journalRef)
        #expect(m.segments.count >= 5, "expected several segments, got \(m.segments.count)")
        #expect(!m.rotating)
        // The segments and the live file hold every line once, in order, and each segment is a
        // real gzip file (gzip -dc reads it) holding exactly the bytes the manifest lists.
        let lines = try await allLines(ws, file)
        #expect(lines.count == 152)
        let events = try lines.map { try Event(line: $0) }
        #expect(events.map(\.seq) == Array(0..<152))
        for e in acked { #expect(events[e.seq].hash == e.hash) }
        var text: [UInt8] = []
        for s in m.segments {
            #expect(s.file.hasPrefix("exec_status_\(file.g)_archive_") && s.file.hasSuffix(".jsonl.gz"))
            let run = try Self.run("/bin/sh", ["-c", "gzip -dc '\(ws.root)/\(s.file)'"])
            #expect(run.count == Int(s.bytes))
            #expect(Digest256.of(run).hex == s.sha256)
            text += run
        }
        let live = TestSupport.bytes(ws.store.journalPath(file.journalRef))
        #expect(Int64(live.count) < Self.rotateBytes + 1024)
        text += live
        #expect(text == lines.flatMap { $0 + [0x0A] })

        let report = try await ws.engine.verify(file)
        #expect(report.ok, "\(report.failure?.description ?? "")")
        #expect(report.events == 152)

        // Reads from the segments are paged: a batch stops at the first line that reaches the
        // limit (bounded memory; the decoder keeps what it decoded past it), and the pages cover
        // every line once.
        var at: Int64 = 0, paged = 0
        while true {
            let batch = try await ws.store.read(file.journalRef, from: at, limit: 1500)
            guard let last = batch.last else { break }
            let bytes = batch.reduce(0) { $0 + $1.bytes.count + 1 }
            if last.end <= m.segmentBytes {
                #expect(bytes - (last.bytes.count + 1) < 1500, "a batch of \(bytes) bytes from the segments went past the limit by more than its last line")
            }
            paged += batch.count
            at = last.end
        }
        #expect(paged == 152)

        // Every rotation left a signed checkpoint at its tree size whose root is the RFC 6962
        // root of the events up to there; verify checked the journal against the latest.
        let leaves = events.map { Merkle.leafHash($0.hash.bytes) }
        for s in m.segments {
            let stored = await ws.engine.storedCheckpointSizes(file)
            let cp = try #require(try await ws.engine.storedCheckpoint(file, size: s.treeSize), "no checkpoint at rotation size \(s.treeSize) of \(m.segments.map(\.treeSize)); stored \(stored)")
            #expect(cp.root == Merkle.root(leafHashes: Array(leaves.prefix(s.treeSize))))
            #expect(s.treeRoot == cp.root)
            #expect(cp.note.signatures.contains { $0.name == "WORKER" }, "signed by the persona whose commit rotated")
        }
        #expect(report.checkpoint?.size == m.segments.last?.treeSize)

        // The snapshot deleted: a new reader rebuilds the same state from the segments.
        let expected = try await book.state()
        unlink(ws.store.snapshotPath(file.journalRef))
        let fresh = try await Workspace(root: ws.root, rotateBytes: Self.rotateBytes).engine.book(file)
        let rebuilt = try await fresh.state()
        #expect(rebuilt.seq == expected.seq && rebuilt.head == expected.head)
        #expect(PrettyJSON.bytes(rebuilt.snapshot()) == PrettyJSON.bytes(expected.snapshot()))
        // And a writer that never saw the rotations (an old cursor) still appends in order.
        let e = try await progress(ws, fresh, 999)
        #expect(e.seq == 152)
        #expect(try await ws.engine.verify(file).ok)
    }

    @Test func theCLIReadsSegmentsTransparently() async throws {
        let (ws, file) = try await rotating("rot-cli")
        let env = ["LOGBOOK_ROTATE_BYTES": "4096"]
        #expect(try TestSupport.logbook(["task", "start", "T1", "--persona", "WORKER", "--workspace", ws.root], env: env).status == 0)
        for i in 1...40 {
            let r = try TestSupport.logbook(["task", "progress", "T1", "--percent", "\(i)", "--note", String(repeating: "x", count: 150),
                                             "--persona", "WORKER", "--workspace", ws.root], env: env)
            #expect(r.status == 0, "\(r.stderr)")
        }
        #expect(try ws.store.segments(file.journalRef).segments.count >= 2)
        let log = try TestSupport.logbook(["log", "--workspace", ws.root, "--json"])
        #expect(log.status == 0)
        #expect(log.stdout.split(separator: "\n").count == 42, "log shows every event across segments")
        let verify = try TestSupport.logbook(["verify", "--workspace", ws.root])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        let status = try TestSupport.logbook(["status", "--json", "--workspace", ws.root])
        #expect(status.stdout.contains("\"percent_complete\": 40") || status.stdout.contains("\"percent_complete\":40"))
    }

    /// A segment edited, replaced, or removed; the manifest removed: verify fails and says where.
    @Test(arguments: ["edit", "missing", "garbage", "manifest"])
    func damagedSegmentsAreNamedByVerify(_ damage: String) async throws {
        let (ws, file) = try await rotating("rot-tamper-\(damage)")
        let book = try await ws.engine.book(file)
        _ = try await book.submit(EventRequest(type: .started, task: "T1", persona: "WORKER"), signer: try await ws.engine.signingKey(for: "WORKER"))
        for i in 0..<60 { _ = try await progress(ws, book, i) }
        let m = try ws.store.segments(file.journalRef)
        try #require(m.segments.count >= 2)
        let seg = m.segments[1]
        let path = ws.root + "/" + seg.file
        switch damage {
        case "edit":
            // Change one digit of a percent inside the segment and recompress it.
            let text = try Self.run("/bin/sh", ["-c", "gzip -dc '\(path)'"])
            var s = String(decoding: text, as: UTF8.self)
            let r = try #require(s.range(of: "\"percent\":"))
            let digit = s.index(r.upperBound, offsetBy: 0)
            s.replaceSubrange(digit...digit, with: s[digit] == "7" ? "8" : "7")
            chmod(path, 0o644)
            try Data(s.utf8).write(to: URL(fileURLWithPath: ws.root + "/edited.jsonl"))
            _ = try Self.run("/bin/sh", ["-c", "gzip -c '\(ws.root)/edited.jsonl' > '\(path)'"])
        case "missing":
            unlink(path)
        case "garbage":
            chmod(path, 0o644)
            try Data("not gzip at all\n".utf8).write(to: URL(fileURLWithPath: path))
        default:
            unlink(ws.store.manifestPath(file.journalRef))
        }
        let fresh = Workspace(root: ws.root, rotateBytes: Self.rotateBytes)
        let report = try await fresh.engine.verify(file)
        #expect(!report.ok)
        let f = try #require(report.failure)
        switch damage {
        case "edit":
            #expect(f.kind == .edited || f.kind == .segment, "\(f)")
            #expect((seg.firstSeq...seg.lastSeq).contains(f.seq ?? -1), "\(f)")
        case "missing", "garbage":
            #expect(f.kind == .segment, "\(f)")
            #expect(f.message.contains(seg.file), "\(f)")
        default:
            // Without the manifest the live file starts mid-chain: the start is reported missing.
            #expect(f.seq == 0 || f.kind == .deleted || f.kind == .truncated || f.kind == .chainBroken, "\(f)")
        }
        // The CLI says the same with exit code 6.
        let cli = try TestSupport.logbook(["verify", "--workspace", ws.root])
        #expect(cli.status == 6, "\(cli.stdout)\(cli.stderr)")
    }

    /// Someone rolls the journal back across a rotation with a consistent-looking result: the
    /// last segment dropped from the manifest, the live file emptied, the snapshot deleted. The
    /// chain is valid; the checkpoint written at that rotation still catches the rollback.
    @Test func aRollbackAcrossARotationIsCaughtByItsCheckpoint() async throws {
        let (ws, file) = try await rotating("rot-rollback")
        let book = try await ws.engine.book(file)
        _ = try await book.submit(EventRequest(type: .started, task: "T1", persona: "WORKER"), signer: try await ws.engine.signingKey(for: "WORKER"))
        for i in 0..<60 { _ = try await progress(ws, book, i) }
        var m = try ws.store.segments(file.journalRef)
        try #require(m.segments.count >= 3)
        let dropped = m.segments.removeLast()
        chmod(ws.store.manifestPath(file.journalRef), 0o644)
        try Data(PrettyJSON.bytes(m.json)).write(to: URL(fileURLWithPath: ws.store.manifestPath(file.journalRef)))
        unlink(ws.root + "/" + dropped.file)
        truncate(ws.store.journalPath(file.journalRef), 0)
        unlink(ws.store.snapshotPath(file.journalRef))
        let report = try await Workspace(root: ws.root, rotateBytes: Self.rotateBytes).engine.verify(file)
        let f = try #require(report.failure)
        #expect(f.kind == .truncated, "\(f)")
        #expect(f.message.contains("WORKER") && f.message.contains("\(dropped.treeSize)"), "\(f)")
    }

    /// A crash at every disk operation of an append that rotates: afterwards the next writer
    /// repairs the workspace, nothing acknowledged is lost, the unacknowledged event is either
    /// fully there or absent, and verify passes.
    @Test func aCrashAtEveryStepOfARotationIsRepaired() async throws {
        var n = 1
        var sawRotatingManifest = false
        while true {
            let (ws, file) = try await rotating("rot-crash-\(n)")
            let book = try await ws.engine.privateBook(file, snapshotInterval: 1_000_000)
            _ = try await book.submit(EventRequest(type: .started, task: "T1", persona: "WORKER"), signer: try await ws.engine.signingKey(for: "WORKER"))
            var acked: [Event] = []
            var i = 0
            while try Int64(TestSupport.bytes(ws.store.journalPath(file.journalRef)).count) < Self.rotateBytes {
                acked.append(try await progress(ws, book, i))
                i += 1
            }
            // The next append rotates first; crash it at disk operation n.
            let ops = CrashAfterOps(crashAt: n)
            let crashing = Workspace(root: ws.root, ops: ops, rotateBytes: Self.rotateBytes)
            var crashedEvent: Event?
            do {
                crashedEvent = try await progress(crashing, try await crashing.engine.privateBook(file, snapshotInterval: 1_000_000), 500)
            } catch let e as LogbookError {
                #expect(e.message.contains("simulated crash"), "\(e)")
            }
            if let m = try? SegmentManifest(bytes: TestSupport.bytes(ws.store.manifestPath(file.journalRef)), name: "m"), m.rotating {
                sawRotatingManifest = true
            }
            // Reopen with real calls: a writer repairs and appends; everything verifies.
            let after = Workspace(root: ws.root, rotateBytes: Self.rotateBytes)
            _ = try after.store.recover(file.journalRef)
            let next = try await progress(after, try await after.engine.book(file), 501)
            let events = try await allLines(after, file).map { try Event(line: $0) }
            #expect(events.map(\.seq) == Array(0..<events.count), "crash at op \(n)")
            for e in acked { #expect(events[e.seq].hash == e.hash, "crash at op \(n): acknowledged seq \(e.seq) lost") }
            if let c = crashedEvent { #expect(events[c.seq].hash == c.hash) }
            #expect(events.last?.hash == next.hash)
            let report = try await after.engine.verify(file)
            #expect(report.ok, "crash at op \(n): \(report.failure?.description ?? "")")
            #expect(!(try after.store.segments(file.journalRef).rotating))
            if !ops.crashed {
                #expect(try after.store.segments(file.journalRef).segments.count == 1)
                break
            }
            n += 1
            try #require(n < 40, "the rotating append never completed")
        }
        #expect(n > 5, "the sweep covered \(n) operations")
        print("crash sweep: a rotating append completed after \(n - 1) crash points, each repaired")
        #expect(sawRotatingManifest, "no crash point fell between the manifest and the emptied live file")
    }

    /// Four writer processes append through rotations at once: every acknowledged event is there
    /// exactly once and the journal verifies.
    @Test func writerProcessesShareRotations() async throws {
        let (ws, file) = try await MultiProcessTests.loadWorkspace(writers: 4)
        let dir = TestSupport.tempDirectory("rot-acks")
        let acks = (1...4).map { "\(dir)/ack-\($0)" }
        let procs = try (1...4).map { w -> Process in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: TestSupport.binary)
            p.arguments = ["append-load", "--workspace", ws.root, "--persona", "LOADER", "--task", "L\(w)", "--count", "120",
                           "--ack-file", acks[w - 1], "--note-bytes", "300"]
            p.environment = ProcessInfo.processInfo.environment.merging(["LOGBOOK_ROTATE_BYTES": "8192"]) { $1 }
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            return p
        }
        for p in procs { p.waitUntilExit() }
        #expect(procs.allSatisfy { $0.terminationStatus == 0 })
        let reader = Workspace(root: ws.root, rotateBytes: 8192)
        #expect(try reader.store.segments(file.journalRef).segments.count >= 10)
        var events: [Event] = []
        try await reader.store.forEachLine(file.journalRef) { events.append(try Event(line: $0.bytes)) }
        #expect(events.count == 1 + 4 * 121)
        #expect(events.map(\.seq) == Array(0..<events.count))
        let bySeq = Dictionary(uniqueKeysWithValues: events.map { ($0.seq, $0.hash.hex) })
        let acked = MultiProcessTests.acks(acks)
        #expect(acked.count == 4 * 120)
        for (seq, hash) in acked { #expect(bySeq[seq] == hash) }
        #expect(try await reader.engine.verify(file).ok)
    }

    static func run(_ tool: String, _ args: [String]) throws -> [UInt8] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Array(data)
    }
}
