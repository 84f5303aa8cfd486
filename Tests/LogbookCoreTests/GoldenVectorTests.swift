import Foundation
import Testing
import LogbookCore

/// Fixed inputs → fixed bytes: the hashed form, the hash, the Ed25519 signature and the journal
/// lines of a tiny journal, kept in Resources/golden/ and documented in docs/FORMAT.md.
///
/// To regenerate after an intended format change: `LOGBOOK_WRITE_GOLDEN=1 swift test --filter Golden`,
/// then review the diff of Resources/golden/ by hand.
@Suite("Golden vectors")
struct GoldenVectorTests {
    // MARK: The fixed inputs

    /// Seeds 0x01…0x20 and 0x21…0x40.
    static let supervisor = try! SigningKey(persona: "SUPERVISOR", seed: Array(0x01...0x20))
    static let dev = try! SigningKey(persona: "DEV", seed: Array(0x21...0x40))

    static let registry = PersonaRegistry(personas: [
        Persona(id: "SUPERVISOR", role: .supervisor, archetype: "SUPERVISOR", publicKey: supervisor.publicKey),
        Persona(id: "DEV", role: .worker, archetype: "CODER", publicKey: dev.publicKey),
    ])

    static let plan: PlanDocument = PlanDocument(json: [
        "os_file_header": [
            "file_id": "exec_plan_42", "entity_type": "EXECUTION_PLAN", "schema_definition_id_ref": "HybridAI_OS_ExecutionPlan_Payload_v5.4",
            "g_file_created": 42, "g_file_last_modified": 42, "v_file_instance": 1,
        ],
        "payload": [
            "execution_plan_id": "EP-GOLDEN",
            "plan_type": "IMPLEMENTATION",
            "plan_definition": ["goal": "Show the format", "scope_summary": ["one task"], "exclusions_summary": ["none"]],
            "tasks": [[
                "task_id": "T1", "title": "Write the parser", "description": "A strict JSON parser.",
                "intent": "implementation", "assigned_agent_persona": "DEV", "authorized_agent_archetypes": [],
                "max_retries": 1, "inputs": [], "outputs": ["Sources/Parser.swift"], "execution_checklist": [],
                "dependencies": [], "criticality": "HIGH", "notes": [],
            ]],
        ],
    ]).locked()

    struct Vectors {
        let genesis: Event
        let started: Event
        /// The event the worked example of docs/FORMAT.md follows: signed by DEV having seen
        /// the genesis (seq 0), appended at seq 2, so one event late.
        let progress: Event
        var journal: [UInt8] { genesis.line + started.line + progress.line }
    }

    static func make() throws -> Vectors {
        let spec = try plan.spec(personas: registry)
        let genesis = try Genesis.make(plan: plan, spec: spec, gPlan: 42, g: 43, registry: registry, locker: "SUPERVISOR",
                                       signer: supervisor, ts: "2025-06-01T12:00:00.000Z")
        // Both DEV statements are admitted by the rules, which derive the facts and place them.
        var state = StatusState(plan: spec)
        try state.apply(genesis)
        func admit(_ st: Statement, ts: String, history: StatementHistory) throws -> Event {
            guard case .append(let e, _) = try state.admitAndFold(SignedStatement(st, signer: dev), ts: ts, g: 43, history: history) else {
                throw LogbookError(.conflict, "not appended")
            }
            return e
        }
        var history = StatementHistory(seq: 0, hash: genesis.hash)
        let seen0 = Statement.Seen(seq: 0, hash: genesis.hash)
        let started = try admit(Statement(plan: "EP-GOLDEN", task: "T1", persona: "DEV", keyID: dev.publicKey.keyID, type: .started,
                                          at: "2025-06-01T12:00:03.125Z", seen: seen0),
                                ts: "2025-06-01T12:00:03.500Z", history: history)
        history.append(seq: 1, hash: started.hash, statement: started.signedStatement.digest)
        let progress = try admit(Statement(plan: "EP-GOLDEN", task: "T1", persona: "DEV", keyID: dev.publicKey.keyID, type: .progress,
                                           data: ["percent": 40, "note": "lexer done — 40 % ✓"],
                                           traceID: "4bf92f3577b34da6a3ce929d0e0e4736", idempotencyKey: "dev-T1-progress-1",
                                           at: "2025-06-01T12:00:04.000Z", seen: seen0),
                                 ts: "2025-06-01T12:00:05.250Z", history: history)
        return Vectors(genesis: genesis, started: started, progress: progress)
    }

    /// File name → expected bytes.
    static func files(_ v: Vectors) -> [(String, [UInt8])] {
        func text(_ s: String) -> [UInt8] { Array((s + "\n").utf8) }
        var keys = ""
        for k in [supervisor, dev] {
            keys += "\(k.persona) seed_hex \(Hex.encode(k.seed))\n"
            keys += "\(k.persona) seed_base64 \(Base64.encode(k.seed))\n"
            keys += "\(k.persona) public_key_base64 \(k.publicKey.base64)\n"
            keys += "\(k.persona) key_id \(k.publicKey.keyID)\n"
        }
        return [
            ("keys.txt", Array(keys.utf8)),
            ("personas.json", PrettyJSON.bytes(registry.json())),
            ("plan.json", PrettyJSON.bytes(plan.json)),
            ("plan.digest.txt", text(plan.digest.description)),
            ("stmt.json", v.progress.stmt.canonicalBytes),
            ("stmt.sig.b64", text(Base64.encode(v.progress.sig!))),
            ("event.hashed.json", CanonicalJSON.bytes(v.progress.hashedJSON)),
            ("event.hash.txt", text(v.progress.hash.description)),
            ("event.line.jsonl", v.progress.line),
            ("journal.jsonl", v.journal),
        ]
    }

    static var sourceDir: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources/golden")
    }

    static func stored(_ name: String) throws -> [UInt8] {
        let dir = Bundle.module.url(forResource: "Resources", withExtension: nil)!.appendingPathComponent("golden")
        return Array(try Data(contentsOf: dir.appendingPathComponent(name)))
    }

    // MARK: Tests

    @Test("recomputed vectors equal the files in Resources/golden")
    func vectorsMatchFiles() throws {
        var v = try Self.make()
        if ProcessInfo.processInfo.environment["LOGBOOK_WRITE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: Self.sourceDir, withIntermediateDirectories: true)
            for (name, bytes) in Self.files(v) { try Data(bytes).write(to: Self.sourceDir.appendingPathComponent(name)) }
            return
        }
        // Ed25519 (RFC 8032) is deterministic, but Apple's CryptoKit randomises signatures: there,
        // check the stored signatures verify and compare everything else with them in place.
        let lines = try Self.stored("journal.jsonl").split(separator: 0x0A).map { try Event(line: Array($0)) }
        #expect(lines.count == 3)
        let fresh = [v.genesis, v.started, v.progress]
        for (stored, made) in zip(lines, fresh) {
            let key = stored.persona == "DEV" ? Self.dev : Self.supervisor
            #expect(key.publicKey.isValid(signature: stored.sig!, message: stored.signedBytes))
            #if !canImport(Darwin)
            #expect(stored.sig == made.sig, "seq \(made.seq): Ed25519 signatures are deterministic")
            #endif
        }
        v = Vectors(genesis: withSig(v.genesis, lines[0].sig), started: withSig(v.started, lines[1].sig),
                    progress: withSig(v.progress, lines[2].sig))
        for (name, bytes) in Self.files(v) {
            let file = try Self.stored(name)
            #expect(file == bytes, "\(name) differs:\n\(String(decoding: bytes, as: UTF8.self))")
        }
    }

    func withSig(_ e: Event, _ sig: [UInt8]?) -> Event {
        var e = e
        e.sig = sig
        e.hash = e.computedHash  // the hash covers the signature
        return e
    }

    @Test("the golden journal is a valid journal")
    func goldenJournalVerifies() async throws {
        let store = MemoryJournalStore()
        let ref = JournalRef(planID: "EP-GOLDEN", g: 42)
        let lines = try Self.stored("journal.jsonl").split(separator: 0x0A).map { Array($0) + [0x0A] }
        try await store.createJournal(ref, genesis: lines[0])
        _ = try await store.append(ref, from: Int64(lines[0].count)) { _ in Array(lines.dropFirst()) }
        var verifier = Verifier(plan: Self.plan, spec: try Self.plan.spec(personas: Self.registry), registry: Self.registry, snapshot: nil)
        try await store.forEachLine(ref) { verifier.feed($0) }
        let report = verifier.finish()
        #expect(report.ok, "\(String(describing: report.failure))")
        #expect(report.events == 3)
        #expect(report.head.map { $0.description + "\n" } == String(decoding: try Self.stored("event.hash.txt"), as: UTF8.self))
    }

    @Test("what is signed: the domain prefix and the stmt bytes, sliced from the line as they stand")
    func signedBytes() throws {
        let line = try Self.stored("event.line.jsonl")
        let stmt = try Self.stored("stmt.json")
        let r = try #require(Event.statementRange(in: Array(line.dropLast())))
        #expect(Array(line[r]) == stmt)
        #expect(CanonicalJSON.bytes(try JSONParser.parse(stmt)) == stmt, "the statement bytes are canonical")
        let sigText = String(decoding: try Self.stored("stmt.sig.b64"), as: UTF8.self)
        let sig = try #require(Base64.decode(String(sigText.dropLast())))
        #expect(Self.dev.publicKey.isValid(signature: sig, message: Array("logbook statement v2\n".utf8) + stmt))
        #expect(!Self.dev.publicKey.isValid(signature: sig, message: stmt), "without the domain prefix it does not verify")
        let e = try Event(line: Array(line.dropLast()))
        #expect(e.seen == Statement.Seen(seq: 0, hash: try Event(line: Array(try Self.stored("journal.jsonl").split(separator: 0x0A)[0])).hash))
        #expect(e.lateness.events == 1)
        #expect(e.lateness.milliseconds == 1250)
    }

    @Test("what is hashed: the canonical line without hash (signature, facts and position included)")
    func hashedBytes() throws {
        let hashed = try Self.stored("event.hashed.json")
        let line = try Self.stored("event.line.jsonl")
        // The line minus its `hash` member, canonicalized, is exactly the hashed bytes.
        var o = try JSONParser.parse(Array(line.dropLast())).objectValue!
        o["hash"] = nil
        #expect(CanonicalJSON.bytes(.object(o)) == hashed)
        #expect(String(decoding: hashed, as: UTF8.self).contains("\"sig\":\""))
        #expect(String(decoding: hashed, as: UTF8.self).contains("\"key_id\":\"DEV+"))
        let digest = Digest256.of(hashed)
        #expect(digest.description + "\n" == String(decoding: try Self.stored("event.hash.txt"), as: UTF8.self))
        // The started event records the readiness the rules derived, as facts.
        let started = try Event(line: Array(try Self.stored("journal.jsonl").split(separator: 0x0A)[1]))
        #expect(CanonicalJSON.string(.object(started.facts)) == #"{"readiness":{"dependencies":[],"override":false,"ready":true}}"#)
    }

    @Test("key ids follow the C2SP note convention")
    func keyIDs() throws {
        for k in [Self.supervisor, Self.dev] {
            let pub = k.publicKey
            let h = Digest256.of(Array(k.persona.utf8) + [0x0A, 0x01] + pub.raw)
            #expect(pub.keyID == k.persona + "+" + Hex.encode(h.bytes.prefix(4)))
        }
        // RFC 8032 §7.1 test 1: the public key of this well-known seed.
        let rfc = try SigningKey(persona: "X", seed: Hex.decode(Array("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60".utf8))!)
        #expect(Hex.encode(rfc.publicKey.raw) == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        let sig = rfc.sign(Digest256(bytes: Array(repeating: 0, count: 32)))
        #expect(rfc.publicKey.isValid(signature: sig, for: Digest256(bytes: Array(repeating: 0, count: 32))))
    }

    @Test("docs/FORMAT.md quotes the current golden values")
    func formatDocInSync() throws {
        let doc = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../docs/FORMAT.md").standardizedFileURL
        guard let text = try? String(contentsOf: doc, encoding: .utf8) else { return }  // not shipped with the tests
        func stored(_ name: String) throws -> String {
            String(decoding: try Self.stored(name), as: UTF8.self).trimmingCharacters(in: .newlines)
        }
        for value in [try stored("event.line.jsonl"), try stored("event.hashed.json"), try stored("stmt.json"), try stored("stmt.sig.b64"),
                      try stored("event.hash.txt"), try stored("plan.digest.txt"),
                      Self.dev.publicKey.keyID, Self.supervisor.publicKey.keyID, Self.dev.publicKey.base64] {
            #expect(text.contains(value), "docs/FORMAT.md does not quote \(value.prefix(60))…")
        }
    }

    @Test("the genesis is bound to the plan digest")
    func genesisBinding() throws {
        let v = try Self.make()
        #expect(v.genesis.prev == Self.plan.digest)
        #expect(v.genesis.data["plan_digest"] == .string(Self.plan.digest.description))
        #expect(Self.plan.digest == Digest256.of(CanonicalJSON.bytes(Self.plan.json["payload"]!)))
        #expect(v.genesis.data["personas"]?["DEV"]?["key_id"] == .string(Self.dev.publicKey.keyID))
        #expect(v.genesis.data["personas"]?["DEV"]?["public_key"] == .string(Self.dev.publicKey.base64))
        #expect(v.genesis.seen == Statement.Seen(seq: -1, hash: Self.plan.digest))
    }
}
