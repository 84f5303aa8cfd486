import Foundation
import Testing
import LogbookCore

/// C2SP signed notes and tlog checkpoints.
///
/// External vectors:
/// - golang.org/x/mod `sumdb/note/note_test.go` (commit 02c991387e35f9e4c0a9b7ce137717055f8d716d): the
///   PeterNeumann and EnochRoot keys and signatures, and its malformed notes;
/// - transparency-dev/formats `log/checkpoint_test.go` (commit 7a6ef700ee5660b2580c9da92063af300820fdee),
///   `TestSumDBNoteParsing`: a real checkpoint of the Go checksum database (sum.golang.org) and its
///   public key;
/// - c2sp.org/tlog-checkpoint (C2SP/C2SP `tlog-checkpoint.md`): the example checkpoint's shape.
///
/// Golden: `Resources/golden/checkpoint.txt`, written by `make_checkpoint_golden.py` (Python
/// `cryptography`, an independent implementation).
@Suite("Checkpoints and signed notes (C2SP)")
struct CheckpointTests {
    // MARK: The Go reference vectors (sumdb/note)

    static let peterVKey = "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"  // from PeterNeumann+c74f20a3+…
    static let peterSKey = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"  // from PRIVATE+KEY+PeterNeumann+c74f20a3+…
    static let enochVKey = "ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"  // from EnochRoot+af0cfe78+…
    static let text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
    static let peterSig = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
    static let enochSig = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"

    /// A Go `note` verifier key's material is 0x01 (Ed25519) ‖ 32-byte key.
    static func goKey(_ name: String, _ b64: String) -> PublicKey {
        let raw = Base64.decode(b64)!
        precondition(raw.first == 0x01)
        return PublicKey(persona: name, raw: Array(raw.dropFirst()))!
    }

    static var peter: PublicKey { goKey("PeterNeumann", peterVKey) }
    static var enoch: PublicKey { goKey("EnochRoot", enochVKey) }
    static var peterSigner: SigningKey { try! SigningKey(persona: "PeterNeumann", seed: Array(Base64.decode(peterSKey)!.dropFirst())) }

    /// Whether this platform's Ed25519 signs deterministically (RFC 8032; CryptoKit randomises).
    static var deterministic: Bool {
        var a = SignedNote(text: "x\n"), b = SignedNote(text: "x\n")
        a.sign(with: peterSigner)
        b.sign(with: peterSigner)
        return a == b
    }

    @Test("key ids match the Go reference (c74f20a3, af0cfe78)")
    func keyIDs() {
        #expect(Hex.encode(Self.peter.keyHash) == "c74f20a3")
        #expect(Hex.encode(Self.enoch.keyHash) == "af0cfe78")
        #expect(Self.peterSigner.publicKey == Self.peter)
    }

    @Test("signing reproduces the Go note (TestSign) and it verifies")
    func signLikeGo() throws {
        var note = SignedNote(text: Self.text)
        note.sign(with: Self.peterSigner)
        if Self.deterministic { #expect(note.serialized == Self.text + "\n" + Self.peterSig) }
        let parsed = try SignedNote(parsing: Self.text + "\n" + Self.peterSig)
        #expect(parsed.text == Self.text)
        #expect(try parsed.verify(keys: [Self.peter]).verified == [Self.peter])
        #expect(try note.verify(keys: [Self.peter]).verified == [Self.peter])
    }

    @Test("unknown signers are ignored; both verify when both are known (TestOpen)")
    func unknownIgnored() throws {
        let note = try SignedNote(parsing: Self.text + "\n" + Self.peterSig + Self.enochSig)
        let one = try note.verify(keys: [Self.peter])
        #expect(one.verified == [Self.peter])
        #expect(one.unknown.map(\.keyID) == ["EnochRoot+af0cfe78"])
        #expect(try note.verify(keys: [Self.peter, Self.enoch]).verified == [Self.peter, Self.enoch])
        #expect(throws: LogbookError.self) { try note.verify(keys: []) }
        // Same name, other key: unknown, not a failure (C2SP: name and id must both match).
        let other = try SigningKey(persona: "PeterNeumann", seed: [UInt8](repeating: 7, count: 32)).publicKey
        #expect(throws: LogbookError.self) { try note.verify(keys: [other]) }
        #expect(try note.verify(keys: [other, Self.enoch]).verified == [Self.enoch])
    }

    @Test("a bad signature by a known key rejects the note")
    func badSignatureRejects() throws {
        let sig = Array(Self.peterSig)
        let broken = String(sig[..<60]) + "ABCD" + String(sig[60...])
        let note = try SignedNote(parsing: Self.text + "\n" + broken)
        let error = #expect(throws: LogbookError.self) { try note.verify(keys: [Self.peter]) }
        #expect(error?.code == .badSignature)
        // …even when another known key's signature is valid.
        let both = try SignedNote(parsing: Self.text + "\n" + Self.enochSig + broken)
        #expect(throws: LogbookError.self) { try both.verify(keys: [Self.peter, Self.enoch]) }
        let altered = try SignedNote(parsing: Self.text.replacingOccurrences(of: "cryptography", with: "cryptographY") + "\n" + Self.peterSig)
        #expect(throws: LogbookError.self) { try altered.verify(keys: [Self.peter]) }
    }

    @Test("malformed notes of note_test.go are refused")
    func malformed() {
        let sig = Self.peterSig
        let bad = [
            Self.text, Self.text + "\n", Self.text + "\n" + String(sig.dropLast()), "\u{01}" + Self.text + "\n" + sig,
            Self.text + "\n" + "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
            Self.text + "\n" + sig + "Unexpected line.\n",
            Self.text + "\n" + String(repeating: sig, count: 101),
            Self.text + "\n" + "— a+b x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
            Self.text + "\n" + "-- PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
            Self.text + "\n" + "— PeterNeumann AAAA\n",
        ]
        for msg in bad {
            #expect(throws: LogbookError.self, "\(msg.debugDescription)") { try SignedNote(parsing: msg) }
        }
        #expect(throws: LogbookError.self) { try SignedNote(parsing: [0xFF] + Array((Self.text + "\n" + sig).utf8)) }
    }

    // MARK: A real checkpoint: the Go checksum database

    static let sumdbKey = goKey("sum.golang.org", "Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8")
    static let sumdbCheckpoint = """
        go.sum database tree
        6476701
        mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=

        — sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4nPRYfvimWEPWL+o3GeoWwOoAw=

        """

    @Test("a sum.golang.org checkpoint parses and its signature verifies")
    func sumdb() throws {
        #expect(Hex.encode(Self.sumdbKey.keyHash) == "033de0ae")
        let cp = try Checkpoint(parsing: Self.sumdbCheckpoint)
        #expect(cp.origin == "go.sum database tree")
        #expect(cp.size == 6476701)
        #expect(Base64.encode(cp.root.bytes) == "mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=")
        #expect(cp.text == Self.sumdbCheckpoint)
        #expect(try cp.verify(keys: [Self.sumdbKey]).verified == [Self.sumdbKey])
        let forged = try Checkpoint(parsing: Self.sumdbCheckpoint.replacingOccurrences(of: "6476701", with: "6476700"))
        #expect(throws: LogbookError.self) { try forged.verify(keys: [Self.sumdbKey]) }
    }

    @Test("the C2SP tlog-checkpoint example parses (no key: no trusted signature)")
    func c2spExample() throws {
        let text = """
            example.com/behind-the-sofa
            20852163
            CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

            — example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=

            """
        let cp = try Checkpoint(parsing: text)
        #expect(cp.origin == "example.com/behind-the-sofa")
        #expect(cp.size == 20852163)
        #expect(cp.signatures.map(\.name) == ["example.com/behind-the-sofa"])
        #expect(throws: LogbookError.self) { try cp.verify(keys: [Self.sumdbKey]) }
    }

    // MARK: Logbook's checkpoints

    static func seedKey(_ persona: String) -> SigningKey {
        try! SigningKey(persona: persona, seed: Digest256.of(Array("logbook-golden-seed/\(persona)".utf8)).bytes)
    }

    static var registry: PersonaRegistry {
        PersonaRegistry(personas: [
            Persona(id: "SUPERVISOR", role: .supervisor, archetype: "SUPERVISOR", publicKey: seedKey("SUPERVISOR").publicKey),
            Persona(id: "QA", role: .worker, archetype: "TESTER", publicKey: seedKey("QA").publicKey),
            Persona(id: "NOKEY", role: .supervisor, archetype: "SUPERVISOR", publicKey: nil),
        ])
    }

    static let goldenURL = Bundle.module.url(forResource: "Resources", withExtension: nil)!.appendingPathComponent("golden/checkpoint.txt")

    /// The golden tree: 13 leaves whose data are SHA-256("golden event i").
    static var goldenCheckpoint: Checkpoint {
        var tree = MerkleAccumulator()
        for i in 0..<13 { tree.append(leafData: Digest256.of(Array("golden event \(i)".utf8)).bytes) }
        return Checkpoint(origin: Checkpoint.origin(workspaceID: "ws-00112233445566ff", planID: "EP-GOLDEN"), size: tree.size, root: tree.root)
    }

    @Test("golden checkpoint: body, key ids and signatures as an independent implementation wrote them")
    func golden() throws {
        let goldenText = String(decoding: try Data(contentsOf: Self.goldenURL), as: UTF8.self)
        var cp = Self.goldenCheckpoint
        cp.sign(with: Self.seedKey("SUPERVISOR"))
        cp.sign(with: Self.seedKey("QA"))
        let parsed = try Checkpoint(parsing: goldenText)
        #expect(parsed.body == cp.body)
        #expect(parsed.signatures.map(\.keyID) == cp.signatures.map(\.keyID))
        if Self.deterministic { #expect(cp.text == goldenText) }
        #expect(parsed.text == goldenText)
        #expect(try parsed.verify(registry: Self.registry).map(\.id) == ["SUPERVISOR", "QA"])
        #expect(goldenText.hasPrefix("logbook/ws-00112233445566ff/EP-GOLDEN\n13\n"))
        #expect(goldenText.contains("\n\n\u{2014} SUPERVISOR "))
    }

    @Test("a checkpoint needs a supervisor's valid signature; unknown signers are ignored")
    func registryRules() throws {
        var onlyQA = Self.goldenCheckpoint
        onlyQA.sign(with: Self.seedKey("QA"))
        let error = #expect(throws: LogbookError.self) { try onlyQA.verify(registry: Self.registry) }
        #expect(error?.code == .badSignature)
        #expect(try onlyQA.verify(registry: Self.registry, requireSupervisor: false).map(\.id) == ["QA"])

        var withStranger = Self.goldenCheckpoint
        withStranger.sign(with: Self.seedKey("STRANGER"))
        withStranger.sign(with: Self.seedKey("SUPERVISOR"))
        #expect(try withStranger.verify(registry: Self.registry).map(\.id) == ["SUPERVISOR"])

        var none = Self.goldenCheckpoint
        none.sign(with: Self.seedKey("STRANGER"))
        #expect(throws: LogbookError.self) { try none.verify(registry: Self.registry) }

        // A forged signature by a known key fails even beside a valid one.
        var forged = Self.goldenCheckpoint
        forged.sign(with: Self.seedKey("SUPERVISOR"))
        let qa = Self.seedKey("QA").publicKey
        forged.signatures.append(.init(name: "QA", keyHash: qa.keyHash, signature: [UInt8](repeating: 1, count: 64)))
        #expect(throws: LogbookError.self) { try forged.verify(registry: Self.registry) }

        // Signing again replaces the signer's old signature.
        var twice = Self.goldenCheckpoint
        twice.sign(with: Self.seedKey("SUPERVISOR"))
        twice.sign(with: Self.seedKey("SUPERVISOR"))
        #expect(twice.signatures.count == 1)
    }

    @Test("extension lines round-trip and are signed")
    func extensions() throws {
        var cp = Self.goldenCheckpoint
        cp.extensions = ["note: rotation 2"]
        cp.sign(with: Self.seedKey("SUPERVISOR"))
        let parsed = try Checkpoint(parsing: cp.text)
        #expect(parsed == cp)
        try parsed.verify(registry: Self.registry)
        var stripped = parsed
        stripped.extensions = []
        #expect(throws: LogbookError.self) { try stripped.verify(registry: Self.registry) }
    }

    @Test("malformed checkpoint bodies are refused with a reason")
    func malformedBodies() {
        let sig = "\n— SUPERVISOR AAAAAAAA\n"
        let root = Base64.encode([UInt8](repeating: 0, count: 32))
        let bodies = [
            "origin\n12\n", "origin\n012\n\(root)\n", "origin\n-1\n\(root)\n", "origin\n1e3\n\(root)\n",
            "origin\n99999999999999999999999\n\(root)\n", "\n12\n\(root)\n", "origin\n12\nAAAA\n",
            "origin\n12\n\(root)\n\nmore\n",
        ]
        for b in bodies {
            #expect(throws: LogbookError.self, "\(b.debugDescription)") { try Checkpoint(parsing: b + sig) }
        }
        #expect(throws: Never.self) { try Checkpoint(parsing: "origin\n0\n\(root)\n" + sig) }
    }

    // MARK: Proofs (pure)

    static func leaves(_ n: Int) -> [Digest256] { (0..<n).map { Digest256.of(Array("golden event \($0)".utf8)) } }

    @Test("inclusion proof documents round-trip through JSON and verify; tampering fails")
    func inclusionProofDocument() throws {
        let cp = { var c = Self.goldenCheckpoint; c.sign(with: Self.seedKey("SUPERVISOR")); return c }()
        let hashes = Self.leaves(13)
        for seq in 0..<13 {
            let path = try Merkle.inclusionProof(index: seq, leafHashes: hashes.map { Merkle.leafHash($0.bytes) })
            let proof = InclusionProof(plan: "EP-GOLDEN", seq: seq, eventHash: hashes[seq], treeSize: 13, auditPath: path, checkpoint: cp, event: nil)
            let back = try InclusionProof(json: JSONParser.parse(PrettyJSON.bytes(proof.json)))
            #expect(back == proof)
            #expect(try back.verify(registry: Self.registry).map(\.id) == ["SUPERVISOR"])
            var wrongSeq = proof
            wrongSeq.seq = (seq + 1) % 13
            #expect(throws: LogbookError.self) { try wrongSeq.verify(registry: Self.registry) }
            var wrongHash = proof
            wrongHash.eventHash = hashes[(seq + 1) % 13]
            #expect(throws: LogbookError.self) { try wrongHash.verify(registry: Self.registry) }
            var otherPlan = proof
            otherPlan.plan = "EP-OTHER"
            #expect(throws: LogbookError.self) { try otherPlan.verify(registry: Self.registry) }
        }
        // A leaf_hash that does not match event_hash is refused on reading.
        let proof = InclusionProof(plan: "EP-GOLDEN", seq: 0, eventHash: hashes[0], treeSize: 13,
                                   auditPath: try Merkle.inclusionProof(index: 0, leafHashes: hashes.map { Merkle.leafHash($0.bytes) }),
                                   checkpoint: cp, event: nil)
        guard case .object(var o) = proof.json else { Issue.record("not an object"); return }
        o["leaf_hash"] = .string(Base64.encode(hashes[0].bytes))
        #expect(throws: LogbookError.self) { try InclusionProof(json: .object(o)) }
        o["leaf_hash"] = nil
        o["type"] = "something.else"
        #expect(throws: LogbookError.self) { try InclusionProof(json: .object(o)) }
    }

    @Test("consistency proof documents verify between every pair of golden sizes; a fork fails")
    func consistencyProofDocument() throws {
        let hashes = Self.leaves(13).map { Merkle.leafHash($0.bytes) }
        func cp(_ n: Int, _ leaves: [Digest256]) -> Checkpoint {
            var c = Checkpoint(origin: "logbook/ws-1/EP-GOLDEN", size: n, root: Merkle.root(leafHashes: Array(leaves.prefix(n))))
            c.sign(with: Self.seedKey("SUPERVISOR"))
            return c
        }
        for m in 1...13 {
            for n in m...13 {
                let p = ConsistencyProof(plan: "EP-GOLDEN", old: cp(m, hashes), new: cp(n, hashes),
                                         path: try Merkle.consistencyProof(oldSize: m, leafHashes: Array(hashes.prefix(n))))
                let back = try ConsistencyProof(json: JSONParser.parse(PrettyJSON.bytes(p.json)))
                #expect(back == p)
                try back.verify(registry: Self.registry)
            }
        }
        var forkedLeaves = hashes
        forkedLeaves[4] = Merkle.leafHash(Array("another event".utf8))
        let path = try Merkle.consistencyProof(oldSize: 6, leafHashes: hashes)
        let fork = ConsistencyProof(plan: "EP-GOLDEN", old: cp(6, hashes), new: cp(13, forkedLeaves), path: path)
        let error = #expect(throws: LogbookError.self) { try fork.verify(registry: Self.registry) }
        #expect(error?.code == .corrupt)
    }

    @Test("a checkpoint check reports truncation and forks, naming the range")
    func checkpointCheck() {
        let hashes = Self.leaves(13)
        let cp = Checkpoint(origin: "o", size: 10, root: Merkle.root(leafHashes: hashes.prefix(10).map { Merkle.leafHash($0.bytes) }))
        var ok = CheckpointCheck(checkpoint: cp)
        for h in hashes { ok.feed(eventHash: h) }
        #expect(ok.finish() == nil)

        var short = CheckpointCheck(checkpoint: cp)
        for h in hashes.prefix(7) { short.feed(eventHash: h) }
        #expect(short.finish()?.kind == .truncated)
        #expect(short.finish()?.seq == 7)

        let hint = Checkpoint(origin: "o", size: 4, root: Merkle.root(leafHashes: hashes.prefix(4).map { Merkle.leafHash($0.bytes) }))
        var forked = CheckpointCheck(checkpoint: cp, hints: [hint])
        for (i, h) in hashes.enumerated() { forked.feed(eventHash: i == 6 ? Digest256.of([0]) : h) }
        let f = forked.finish()
        #expect(f?.kind == .forked)
        #expect(f?.seq == 4)
        #expect(f?.message.contains("seq 4–9") == true)
    }
}
