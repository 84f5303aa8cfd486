import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Testing

/// Issue 9 §6, key rotation: `persona rotate NAME --persona SUPERVISOR` records the
/// supervisor-signed `key_changed`, and `verify` follows it.
@Suite struct PersonaRotateTests {
    static func progress(_ n: Int) -> [String] { ["task", "progress", "T1", "--percent", "\(n)", "--persona", "WORKER"] }

    @Test func rotatedWorkerKeyEndToEnd() async throws {
        let f = try await CLIFixture.make("rotate")
        try f.ok(BadInput.startT1)
        try f.ok(Self.progress(10))
        let old = try #require(try await f.ws.engine.personas()["WORKER"]?.publicKey)
        let oldKeyFile = f.scratchFile("old.key", String(decoding: TestSupport.bytes(f.ws.keyPath("WORKER")), as: UTF8.self), mode: 0o600)
        let r = try f.ok(["persona", "rotate", "WORKER", "--persona", "SUPERVISOR", "--json"])
        let change = try Event(line: Array(r.stdout.split(separator: "\n")[0].utf8))
        let registry = try await f.ws.engine.personas()
        let new = try #require(registry["WORKER"]?.publicKey)
        #expect(new != old && registry["WORKER"]?.retiredKeys == [old])
        #expect(change.type == .keyChanged && change.persona == "SUPERVISOR" && change.seq == 3)
        #expect(change.data["persona"] == "WORKER" && change.data["key_id"] == .string(new.keyID) && change.data["previous_key_id"] == .string(old.keyID))
        #expect(change.sig.map { registry["SUPERVISOR"]!.publicKey!.isValid(signature: $0, message: change.signedBytes) } == true)
        #expect(try await f.ws.engine.signingKey(for: "WORKER").publicKey == new)
        #expect(!FileManager.default.fileExists(atPath: f.ws.pendingKeyPath("WORKER")))
        // After the change only the new key is accepted; before it the old one verified.
        let before = WorkspaceBytes(f.root)
        let refused = try f.cli(Self.progress(20) + ["--key-file", oldKeyFile])
        expectOneLineError(refused, code: 5, mentions: ["rule signature", old.keyID, new.keyID], "old key after the change")
        #expect(before.changes(to: WorkspaceBytes(f.root)).isEmpty)
        let e = try expectVerifiedEvent(try f.ok(Self.progress(30) + ["--json"]).stdout, key: new)
        #expect(e.seq == 4)
        let verify = try f.ok(["verify"])
        #expect(verify.stdout.contains("verify OK") && verify.stdout.contains("5 events"), "\(verify.stdout)")
    }

    /// The supervisor rotating its own key signs the change with its old key; the plan's
    /// lifecycle continues with the new one, and old checkpoints still verify.
    @Test func supervisorRotatesItsOwnKey() async throws {
        let f = try await CLIFixture.make("rotsup")
        try f.ok(BadInput.startT1)
        try f.ok(["checkpoint", "--persona", "SUPERVISOR"])
        let old = try #require(try await f.ws.engine.personas()["SUPERVISOR"]?.publicKey)
        let r = try f.ok(["persona", "rotate", "SUPERVISOR", "--persona", "SUPERVISOR", "--json"])
        let change = try Event(line: Array(r.stdout.split(separator: "\n")[0].utf8))
        #expect(change.keyID == old.keyID, "signed with the key the plan trusted")
        try f.ok(["task", "done", "T1", "--persona", "WORKER"])
        try f.ok(["task", "waive", "T2", "--reason", "r", "--persona", "SUPERVISOR"])
        try f.ok(["verify"])
        for t in ["T3", "T4", "T5"] { try f.ok(["task", "waive", t, "--reason", "r", "--persona", "SUPERVISOR"]) }
        try f.ok(["validate", "--persona", "SUPERVISOR"])
        try f.ok(["freeze", "--persona", "SUPERVISOR"])
        let verify = try f.ok(["verify"])
        #expect(verify.stdout.contains("verify OK"), "\(verify.stdout)\(verify.stderr)")
    }

    /// Tampering after a rotation is still caught: an event signed with the retired key after
    /// the change, and a journal whose `key_changed` was removed.
    @Test func verifyFollowsTheKeyChange() async throws {
        let f = try await CLIFixture.make("rotver")
        try f.ok(BadInput.startT1)
        let oldKey = try await f.ws.engine.signingKey(for: "WORKER")
        try f.ok(["persona", "rotate", "WORKER", "--persona", "SUPERVISOR"])
        try f.ok(Self.progress(40))
        var lines = f.journalLines()
        // Re-sign seq 3 with the retired key: the hash is unchanged, the key is not the trusted one.
        let e = try Event(line: Array(lines[3].utf8))
        let resigned = Event.make(seq: e.seq, prev: e.prev, ts: e.ts, g: e.g, plan: e.plan, task: e.task, persona: e.persona,
                                  type: e.type, data: e.data, signer: oldKey)
        lines[3] = String(decoding: resigned.line.dropLast(), as: UTF8.self)
        f.writeJournal(lines: lines)
        let r = try f.cli(["verify"])
        #expect(r.status == 6 && r.stderr.contains("seq 3") && r.stderr.contains("trusts"), "\(r.stderr)")
    }

    /// A rotation interrupted after its key change reached the journal (before the new private
    /// key replaced keys/WORKER.key): the worker keeps writing, verify passes, and running the
    /// command again finishes it without a second key_changed.
    @Test func interruptedRotationIsUsableAndResumable() async throws {
        let f = try await CLIFixture.make("rotcrash")
        try f.ok(BadInput.startT1)
        let oldText = String(decoding: TestSupport.bytes(f.ws.keyPath("WORKER")), as: UTF8.self)
        try f.ok(["persona", "rotate", "WORKER", "--persona", "SUPERVISOR"])
        let newText = String(decoding: TestSupport.bytes(f.ws.keyPath("WORKER")), as: UTF8.self)
        // The state between steps 3 and 4: the new key still in .rotating, the old one in place.
        try Data(newText.utf8).write(to: URL(fileURLWithPath: f.ws.pendingKeyPath("WORKER")))
        chmod(f.ws.pendingKeyPath("WORKER"), 0o600)
        try Data(oldText.utf8).write(to: URL(fileURLWithPath: f.ws.keyPath("WORKER")))
        let new = try #require(try await f.ws.engine.personas()["WORKER"]?.publicKey)
        _ = try expectVerifiedEvent(try f.ok(Self.progress(50) + ["--json"]).stdout, key: new)
        try f.ok(["verify"])
        let again = try f.ok(["persona", "rotate", "WORKER", "--persona", "SUPERVISOR"])
        #expect(again.stdout.contains("already trusting the new key: EP-TEST"), "\(again.stdout)")
        #expect(f.journalLines().filter { $0.contains("\"key_changed\"") }.count == 1)
        #expect(String(decoding: TestSupport.bytes(f.ws.keyPath("WORKER")), as: UTF8.self) == newText)
        #expect(!FileManager.default.fileExists(atPath: f.ws.pendingKeyPath("WORKER")))
        try f.ok(Self.progress(60))
        try f.ok(["verify"])
    }

    @Test(arguments: [
        (["persona", "rotate", "NOBODY", "--persona", "SUPERVISOR"], Int32(4), "unknown persona NOBODY"),
        (["persona", "rotate", "WORKER", "--persona", "WORKER2"], 3, "supervisor"),
        (["persona", "rotate", "WORKER", "--persona", "GHOST"], 4, "unknown persona GHOST"),
        (["persona", "rotate", "../x", "--persona", "SUPERVISOR"], 2, "invalid persona id"),
    ])
    func refusals(_ args: [String], _ code: Int32, _ mention: String) async throws {
        let f = try await CLIFixture.make("rotbad")
        let before = WorkspaceBytes(f.root)
        let r = try f.cli(args)
        expectOneLineError(r, code: code, mentions: [mention], args.joined(separator: " "))
        #expect(before.changes(to: WorkspaceBytes(f.root)).isEmpty)
    }
}
