import LogbookCore
import Testing

/// Fuzz: signed notes and checkpoints (C2SP), and proof files.
@Suite struct CheckpointFuzzTests {
    @Test func checkpointsAndNotesNeverCrash() throws {
        let golden = FuzzSeeds.file("golden/checkpoint.txt")
        var cp = Checkpoint(origin: "logbook/ws-0011/EP-TEST", size: 3, root: Digest256.of(Array("root".utf8)))
        cp.sign(with: Fixture.supervisor)
        cp.sign(with: Fixture.dev)
        var f = Fuzzer("checkpoint", seeds: [golden, Array(cp.text.utf8), Array(cp.body.utf8)])
        let keys = [Fixture.supervisor.publicKey, Fixture.dev.publicKey]
        let registry = Fixture.registry
        let r = f.run { input in
            let n = try SignedNote(parsing: input)
            _ = try? n.verify(keys: keys)
            let c = try Checkpoint(parsing: input)
            _ = try? c.verify(registry: registry)
            return .accepted
        }
        #expect(r.accepted > Fuzzer.inputs / 400 && r.rejected > Fuzzer.inputs / 10)
    }
}
