#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Testing

/// A locked workspace (``TestSupport/lockedWorkspace(_:)``) whose journal grows by signed events:
/// seq 1 WORKER starts T1, then WORKER reports progress on T1.
private struct CheckpointedJournal {
    var ws: Workspace
    let file: PlanFile

    static func make(_ name: String, events: Int = 1) async throws -> CheckpointedJournal {
        let (ws, file) = try await TestSupport.lockedWorkspace(name)
        var j = CheckpointedJournal(ws: ws, file: file)
        try await j.grow(to: events)
        return j
    }

    var journalPath: String { ws.store.journalPath(file.journalRef) }
    var snapshotPath: String { ws.store.snapshotPath(file.journalRef) }
    func key(_ persona: String) throws -> SigningKey { try TestSupport.key(ws, persona) }

    /// Appends WORKER's events on T1 until the journal has `count` events.
    mutating func grow(to count: Int) async throws {
        let book = try await ws.engine.book(file)
        let worker = try key("WORKER")
        var seq = try await book.state().seq
        while seq + 1 < count {
            let r = seq + 1 == 1
                ? EventRequest(type: .started, task: "T1", persona: "WORKER")
                : EventRequest(type: .progress, task: "T1", persona: "WORKER", data: ["percent": JSONValue((seq + 1) % 100), "note": .string("step \(seq + 1)")])
            seq = try await book.submit(r, signer: worker).seq
        }
    }

    /// The journal's event hashes, read straight from the file.
    func eventHashes() throws -> [Digest256] {
        try String(decoding: TestSupport.bytes(journalPath), as: UTF8.self).split(separator: "\n").map { try Event(line: Array($0.utf8)).hash }
    }

    /// Cuts the journal after `lines` lines (in place, as a rollback would) and removes the
    /// snapshot; returns a fresh workspace handle that has seen neither.
    mutating func cut(to lines: Int) throws {
        let bytes = TestSupport.bytes(journalPath)
        var seen = 0, end = 0
        for (i, b) in bytes.enumerated() where b == 0x0A {
            seen += 1
            if seen == lines { end = i + 1; break }
        }
        #expect(truncate(journalPath, off_t(end)) == 0)
        unlink(snapshotPath)
        ws = Workspace(root: ws.root)
    }

    /// Removes every stored checkpoint (what someone who cuts the journal would also do).
    func deleteStoredCheckpoints() {
        unlink(ws.checkpointPath(file))
        try? FileManager.default.removeItem(atPath: ws.checkpointDirectory(file))
    }
}

@Suite("Checkpoints and proofs on a workspace")
struct CheckpointFileTests {
    @Test("a checkpoint is written beside the journal, in the history, and verify checks it")
    func writesAndVerifies() async throws {
        let j = try await CheckpointedJournal.make("cp-write", events: 10)
        let cp = try await j.ws.engine.writeCheckpoint(j.file, signers: [j.key("SUPERVISOR"), j.key("WORKER")])
        #expect(cp.size == 10)
        #expect(cp.root == Merkle.root(leafHashes: try j.eventHashes().map { Merkle.leafHash($0.bytes) }))
        #expect(cp.origin == "logbook/\(try j.ws.readState().workspaceID)/EP-TEST")
        #expect(cp.signatures.map(\.name) == ["SUPERVISOR", "WORKER"])
        #expect(String(decoding: TestSupport.bytes(j.ws.checkpointPath(j.file)), as: UTF8.self) == cp.text)
        #expect(String(decoding: TestSupport.bytes(j.ws.checkpointDirectory(j.file) + "/10.txt"), as: UTF8.self) == cp.text)
        #expect(try await j.ws.engine.latestCheckpoint(j.file) == cp)
        #expect(try await cp.verify(registry: j.ws.engine.personas()).map(\.id) == ["SUPERVISOR", "WORKER"])

        let r = try await j.ws.engine.verify(j.file)
        #expect(r.ok, "\(String(describing: r.failure))")
        #expect(r.checkpoint == cp)
        #expect(try await j.ws.engine.verifyAgainst(checkpoint: cp, j.file) == nil)

        // The journal grows; the old checkpoint still holds, a new one supersedes it.
        var grown = j
        try await grown.grow(to: 15)
        #expect(try await j.ws.engine.verify(j.file).ok)
        let cp2 = try await j.ws.engine.writeCheckpoint(j.file, signers: [j.key("SUPERVISOR")])
        #expect(cp2.size == 15)
        #expect(try await j.ws.engine.latestCheckpoint(j.file) == cp2)
        #expect(await j.ws.engine.storedCheckpointSizes(j.file) == [10, 15])
    }

    @Test("only a supervisor signs; co-signers are personas of the plan with their own keys")
    func signerRules() async throws {
        let j = try await CheckpointedJournal.make("cp-signers", events: 3)
        func code(_ signers: [SigningKey]) async -> LogbookError.Code? {
            do { _ = try await j.ws.engine.writeCheckpoint(j.file, signers: signers); return nil } catch let e as LogbookError { return e.code } catch { return nil }
        }
        #expect(await code([]) == .badInput)
        #expect(await code([try j.key("WORKER")]) == .forbidden)
        #expect(await code([try j.key("WORKER"), try j.key("WORKER2")]) == .forbidden)
        #expect(await code([SigningKey(generatingFor: "SUPERVISOR")]) == .badSignature)
        #expect(await code([SigningKey(generatingFor: "NOBODY")]) == .forbidden)
        try await j.ws.engine.addPersona("LATECOMER", role: .supervisor)
        #expect(await code([try j.key("SUPERVISOR"), try j.key("LATECOMER")]) == .forbidden)
        #expect(try await j.ws.engine.latestCheckpoint(j.file) == nil, "a refused checkpoint writes nothing")
        #expect(await code([try j.key("WORKER"), try j.key("SUPERVISOR")]) == nil)
    }

    @Test("a journal cut short after a checkpoint is reported as truncated")
    func truncationDetected() async throws {
        var j = try await CheckpointedJournal.make("cp-trunc", events: 12)
        let cp = try await j.ws.engine.writeCheckpoint(j.file, signers: [j.key("SUPERVISOR")])
        #expect(try await j.ws.engine.verify(j.file).ok)

        try j.cut(to: 8)
        let r = try await j.ws.engine.verify(j.file)
        #expect(r.failure?.kind == .truncated, "\(String(describing: r.failure))")
        #expect(r.failure?.seq == 8)
        #expect(try await j.ws.engine.verifyAgainst(checkpoint: cp, j.file)?.kind == .truncated)

        // Whoever cut the journal deletes the stored checkpoints too: the journal alone looks
        // fine, a copy of the checkpoint kept elsewhere still catches it.
        j.deleteStoredCheckpoints()
        #expect(try await j.ws.engine.verify(j.file).ok)
        let withCopy = try await j.ws.engine.verify(j.file, checkpoint: cp)
        #expect(withCopy.failure?.kind == .truncated)
        #expect(withCopy.failure?.message.contains("cut off") == true)
        await #expect(throws: LogbookError.self) { try await j.ws.engine.inclusionProof(j.file, seq: 2, checkpoint: cp) }
    }

    @Test("a history rewritten from the middle, with a valid chain and signatures, is reported as forked")
    func rewriteDetectedAsForked() async throws {
        var j = try await CheckpointedJournal.make("cp-fork", events: 6)
        try await j.ws.engine.writeCheckpoint(j.file, signers: [j.key("SUPERVISOR")])
        try await j.grow(to: 12)
        let cp = try await j.ws.engine.writeCheckpoint(j.file, signers: [j.key("SUPERVISOR")])

        // Rebuild from seq 8 on with another signer: WORKER2 works on T4 instead.
        try j.cut(to: 8)
        let book = try await j.ws.engine.book(j.file)
        let w2 = try j.key("WORKER2")
        _ = try await book.submit(EventRequest(type: .started, task: "T4", persona: "WORKER2"), signer: w2)
        for p in [10, 20, 30, 40] {
            _ = try await book.submit(EventRequest(type: .progress, task: "T4", persona: "WORKER2", data: ["percent": JSONValue(p)]), signer: w2)
        }
        #expect(try j.eventHashes().count == 13)

        let r = try await j.ws.engine.verify(j.file)
        #expect(r.failure?.kind == .forked, "\(String(describing: r.failure))")
        #expect(r.failure?.seq == 6, "the checkpoint at size 6 still matches, so the rewrite starts at seq 6 or later")
        #expect(r.failure?.message.contains("seq 6–11") == true, "\(r.failure?.message ?? "")")
        #expect(try await j.ws.engine.verifyAgainst(checkpoint: cp, j.file)?.kind == .forked)
        // Signing a checkpoint over the rewritten journal is refused.
        await #expect(throws: LogbookError.self) { try await j.ws.engine.writeCheckpoint(j.file, signers: [j.key("SUPERVISOR")]) }

        // Without checkpoints the rewritten journal verifies: the checkpoint is what catches it.
        j.deleteStoredCheckpoints()
        #expect(try await j.ws.engine.verify(j.file).ok)
        #expect(try await j.ws.engine.verify(j.file, checkpoint: cp).failure?.kind == .forked)
    }

    @Test("inclusion proofs for every seq of a 100-event journal verify without the journal; tampered ones fail")
    func inclusionProofs() async throws {
        let j = try await CheckpointedJournal.make("cp-incl", events: 100)
        let cp = try await j.ws.engine.writeCheckpoint(j.file, signers: [j.key("SUPERVISOR")])
        let registry = try await j.ws.engine.personas()
        let hashes = try j.eventHashes()
        for seq in 0..<100 {
            let proof = try await j.ws.engine.inclusionProof(j.file, seq: seq)
            #expect(proof.event?.seq == seq)
            #expect(proof.eventHash == hashes[seq])
            #expect(proof.checkpoint == cp)
            let back = try InclusionProof(json: JSONParser.parse(PrettyJSON.bytes(proof.json)))
            #expect(back == proof)
            try back.verify(registry: registry)
        }
        await #expect(throws: LogbookError.self) { try await j.ws.engine.inclusionProof(j.file, seq: 100) }

        let proof = try await j.ws.engine.inclusionProof(j.file, seq: 37)
        var flipped = proof
        var b = flipped.auditPath[2].bytes
        b[5] ^= 1
        flipped.auditPath[2] = Digest256(bytes: b)
        let e1 = #expect(throws: LogbookError.self) { try flipped.verify(registry: registry) }
        #expect(e1?.code == .corrupt)
        var edited = proof
        edited.event?.data["note"] = "step 370"
        let e2 = #expect(throws: LogbookError.self) { try edited.verify(registry: registry) }
        #expect(e2?.code == .corrupt)
        var moved = proof
        moved.seq = 38
        moved.event = nil
        #expect(throws: LogbookError.self) { try moved.verify(registry: registry) }
        var bigger = proof
        bigger.checkpoint = try Checkpoint(parsing: cp.text.replacingOccurrences(of: "\n100\n", with: "\n101\n"))
        bigger.treeSize = 101
        let e3 = #expect(throws: LogbookError.self) { try bigger.verify(registry: registry) }
        #expect(e3?.code == .badSignature)
    }

    @Test("consistency proofs between every pair of checkpoint sizes verify")
    func consistencyProofs() async throws {
        var j = try await CheckpointedJournal.make("cp-cons")
        let sizes = [1, 2, 3, 7, 8, 50, 64, 100]
        var cps: [Checkpoint] = []
        for n in sizes {
            try await j.grow(to: n)
            cps.append(try await j.ws.engine.writeCheckpoint(j.file, signers: [j.key("SUPERVISOR")]))
        }
        #expect(cps.map(\.size) == sizes)
        #expect(await j.ws.engine.storedCheckpointSizes(j.file) == sizes)
        #expect(try await j.ws.engine.storedCheckpoint(j.file, size: 7) == cps[3])
        let registry = try await j.ws.engine.personas()
        for a in cps {
            for b in cps where a.size <= b.size {
                let p = try await j.ws.engine.consistencyProof(j.file, from: a, to: b)
                #expect(p.old == a && p.new == b)
                try ConsistencyProof(json: JSONParser.parse(PrettyJSON.bytes(p.json))).verify(registry: registry)
                let reversed = try await j.ws.engine.consistencyProof(j.file, from: b, to: a)
                #expect(reversed == p)
            }
        }
        // A tampered path fails.
        var p = try await j.ws.engine.consistencyProof(j.file, from: cps[3], to: cps[6])
        p.path[0] = Digest256.of(Array("x".utf8))
        #expect(throws: LogbookError.self) { try p.verify(registry: registry) }
    }

    @Test("CLI: checkpoint, prove, verify-proof, consistency, verify --checkpoint")
    func cli() async throws {
        var j = try await CheckpointedJournal.make("cp-cli", events: 9)
        let root = j.ws.root
        let scratch = TestSupport.tempDirectory("cp-cli-scratch")
        func run(_ args: [String]) throws -> TestSupport.Run { try TestSupport.logbook(args + ["--workspace", root]) }

        let refused = try run(["checkpoint", "--persona", "WORKER"])
        #expect(refused.status == 3, "\(refused.stderr)")
        #expect(refused.stderr.contains("supervisor"))

        let made = try run(["checkpoint", "--persona", "SUPERVISOR", "--cosign", "WORKER"])
        #expect(made.status == 0, "\(made.stderr)")
        let cp = try Checkpoint(parsing: made.stdout)
        #expect(cp.size == 9)
        #expect(cp.signatures.map(\.name) == ["SUPERVISOR", "WORKER"])
        let old = scratch + "/old.checkpoint"
        #expect(FileManager.default.createFile(atPath: old, contents: Data(made.stdout.utf8)))

        let proofPath = scratch + "/proof.json"
        let prove = try run(["prove", "4", "-o", proofPath])
        #expect(prove.status == 0, "\(prove.stderr)")
        let ok = try TestSupport.logbook(["verify-proof", proofPath, "--personas", root + "/personas.json"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.hasPrefix("proof OK: plan EP-TEST, seq 4"))

        var doc = try JSONParser.parse(TestSupport.bytes(proofPath)).objectValue!
        doc["seq"] = 5
        _ = FileManager.default.createFile(atPath: proofPath, contents: Data(PrettyJSON.bytes(.object(doc))))
        let tampered = try run(["verify-proof", proofPath])
        #expect(tampered.status == 6, "\(tampered.stderr)")

        try await j.grow(to: 14)
        let newer = try run(["checkpoint", "--persona", "SUPERVISOR"])
        #expect(newer.status == 0)
        let new = scratch + "/new.checkpoint"
        _ = FileManager.default.createFile(atPath: new, contents: Data(newer.stdout.utf8))
        let consistency = try run(["consistency", old, new, "-o", scratch + "/consistency.json"])
        #expect(consistency.status == 0, "\(consistency.stderr)")
        let checked = try run(["verify-proof", scratch + "/consistency.json"])
        #expect(checked.status == 0, "\(checked.stderr)")
        #expect(checked.stdout.contains("size 9 is a prefix of the one at size 14"))

        let verified = try run(["verify"])
        #expect(verified.status == 0)
        #expect(verified.stdout.contains("matches the checkpoint at size 14"))

        try j.cut(to: 11)
        j.deleteStoredCheckpoints()
        #expect(try run(["verify"]).status == 0)
        let caught = try run(["verify", "--checkpoint", new])
        #expect(caught.status == 6)
        #expect(caught.stderr.contains("truncated"), "\(caught.stderr)")
        let json = try run(["verify", "--checkpoint", new, "--json"])
        #expect(try JSONParser.parse(json.stdout)["failure"]?["kind"]?.stringValue == "truncated")
    }
}
