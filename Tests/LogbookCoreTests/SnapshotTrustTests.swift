import Foundation
import Synchronization
import Testing
import LogbookCore
import LogbookStoreConformance

/// The snapshot is an authenticated cache (docs/FORMAT.md, "Snapshot trust and freshness"): a
/// forged field never changes what a writer accepts or refuses, a proved snapshot is the start,
/// and the file is kept fresh by events and by time.
@Suite("Snapshot trust")
struct SnapshotTrustTests {
    /// T1 BLOCKED from IN_PROGRESS (40 %, an idempotency key on its progress), T4 FAILED with
    /// every retry used (2 of 2), T2 and T3 PENDING (waiting for T1).
    func world() async throws -> Fixture.World {
        let w = try await Fixture.world()
        try await w.submit(.started, "T1", by: "DEV")
        try await w.submit(.progress, "T1", by: "DEV", ["percent": 40], idempotencyKey: "k-1")
        try await w.submit(.blocked, "T1", by: "DEV", ["reason": "waiting"])
        try await w.submit(.started, "T4", by: "DEV")
        for _ in 0..<2 {
            try await w.submit(.failed, "T4", by: "DEV", ["reason": "red"])
            try await w.submit(.retried, "T4", by: "DEV", ["reason": "again"])
        }
        try await w.submit(.failed, "T4", by: "DEV", ["reason": "red"])
        return w
    }

    /// A book over the same store, as a new process opens it.
    func reopen(_ w: Fixture.World, verifyKeys: Bool = false) async throws -> StatusBook {
        try await StatusBook.open(store: w.store, ref: Fixture.ref, plan: w.spec,
                                  options: .init(now: Fixture.fixedNow, currentG: { 101 }, verifyKeys: verifyKeys ? w.registry.keysByID : nil))
    }

    func journalEnd(_ w: Fixture.World) async throws -> Int64 {
        try await w.store.read(Fixture.ref, from: 0, limit: Int.max).last!.end
    }

    // MARK: Forged fields

    /// How a forged document is stored.
    enum Sealing: String, CaseIterable, Sendable {
        /// The field is edited; the genuine seal is left as it was (the signature breaks).
        case keptSeal
        /// The field is edited and the seal removed.
        case unsealed
        /// Edited and sealed again with a key that claims to be DEV's but is not the genesis' one.
        case impostorSeal
    }

    struct Forgery: Sendable, CustomTestStringConvertible {
        let name: String
        let edit: @Sendable (inout JSONObject) -> Void
        /// A request the true journal decides one way and the forged field would decide the other.
        let probe: EventRequest
        let probeSigner: String
        /// Whether the true journal accepts the probe.
        let trulyAccepted: Bool
        var testDescription: String { name }
    }

    static func task(_ i: Int, _ o: inout JSONObject, _ edit: (inout JSONObject) -> Void) {
        var payload = o["payload"]!.objectValue!
        var list = payload["tasks_status"]!.arrayValue!
        var t = list[i].objectValue!
        edit(&t)
        list[i] = .object(t)
        payload["tasks_status"] = .array(list)
        o["payload"] = .object(payload)
    }

    static func journal(_ o: inout JSONObject, _ edit: (inout JSONObject) -> Void) {
        var j = o["journal"]!.objectValue!
        edit(&j)
        o["journal"] = .object(j)
    }

    static func persona(_ o: inout JSONObject, _ id: String, _ key: String, _ value: JSONValue) {
        journal(&o) { j in
            var ps = j["personas"]!.objectValue!
            var p = ps[id]!.objectValue!
            p[key] = value
            ps[id] = .object(p)
            j["personas"] = .object(ps)
        }
    }

    /// A plan-level event any persona of the plan may write: signature, persona, lifecycle,
    /// seq and chain rules decide it.
    static func note(_ persona: String, key: String? = nil) -> EventRequest {
        EventRequest(type: .achievement, task: nil, persona: persona, data: ["summary": "probe"], idempotencyKey: key)
    }

    /// Every field a rule reads, forged so that it would flip a decision (or, where no single
    /// request tells, change the state the next rule reads).
    static let forgeries: [Forgery] = [
        Forgery(name: "a dependency marked DONE", edit: { o in task(0, &o) { $0["status"] = "DONE" } },
                probe: EventRequest(type: .started, task: "T2", persona: "QA"), probeSigner: "QA", trulyAccepted: false),
        Forgery(name: "a blocked task shown IN_PROGRESS", edit: { o in task(0, &o) { $0["status"] = "IN_PROGRESS" } },
                probe: EventRequest(type: .progress, task: "T1", persona: "DEV", data: ["percent": 50]), probeSigner: "DEV", trulyAccepted: false),
        Forgery(name: "retry attempts reset", edit: { o in task(3, &o) { $0["retry_attempts_used"] = 0 } },
                probe: EventRequest(type: .retried, task: "T4", persona: "DEV", data: ["reason": "x"]), probeSigner: "DEV", trulyAccepted: false),
        Forgery(name: "a pending dependencies_done override", edit: { o in task(2, &o) { $0["pending_overrides"] = ["dependencies_done"] } },
                probe: EventRequest(type: .started, task: "T3", persona: "DEV"), probeSigner: "DEV", trulyAccepted: false),
        Forgery(name: "a pending max_retries override", edit: { o in task(3, &o) { $0["pending_overrides"] = ["max_retries"] } },
                probe: EventRequest(type: .retried, task: "T4", persona: "DEV", data: ["reason": "x"]), probeSigner: "DEV", trulyAccepted: false),
        Forgery(name: "blocked_from changed", edit: { o in task(0, &o) { $0["blocked_from"] = "PENDING" } },
                probe: EventRequest(type: .unblocked, task: "T1", persona: "DEV"), probeSigner: "DEV", trulyAccepted: true),
        Forgery(name: "a worker made supervisor", edit: { o in persona(&o, "DEV", "role", "supervisor") },
                probe: EventRequest(type: .waived, task: "T3", persona: "DEV", data: ["reason": "x"]), probeSigner: "DEV", trulyAccepted: false),
        Forgery(name: "a persona's archetype changed", edit: { o in persona(&o, "DEV", "archetype", "REVIEWER") },
                probe: note("DEV"), probeSigner: "DEV", trulyAccepted: true),
        Forgery(name: "a persona's key id swapped", edit: { o in persona(&o, "DEV", "key_id", .string(Fixture.impostorDev.publicKey.keyID)) },
                probe: note("DEV"), probeSigner: "DEV", trulyAccepted: true),
        Forgery(name: "a persona's key removed and allow_unsigned turned on", edit: { o in
                    persona(&o, "QA", "key_id", .null)
                    journal(&o) { $0["allow_unsigned"] = true }
                },
                probe: note("QA"), probeSigner: "", trulyAccepted: false),
        Forgery(name: "an idempotency key removed", edit: { o in journal(&o) { $0["idempotency_keys"] = .object(JSONObject()) } },
                probe: note("DEV", key: "k-1"), probeSigner: "DEV", trulyAccepted: false),
        Forgery(name: "lifecycle FROZEN", edit: { o in
                    var p = o["payload"]!.objectValue!
                    p["lifecycle_status"] = "FROZEN"
                    p["frozen_at_seq"] = 3
                    o["payload"] = .object(p)
                },
                probe: note("DEV"), probeSigner: "DEV", trulyAccepted: true),
        Forgery(name: "seq moved back", edit: { o in journal(&o) { $0["seq"] = 5 } },
                probe: note("DEV"), probeSigner: "DEV", trulyAccepted: true),
        Forgery(name: "head hash replaced", edit: { o in journal(&o) { $0["head_hash"] = .string(Digest256.of([1, 2, 3]).description) } },
                probe: note("DEV"), probeSigner: "DEV", trulyAccepted: true),
        Forgery(name: "cursor moved", edit: { o in journal(&o) { $0["cursor"] = 10 } },
                probe: note("DEV"), probeSigner: "DEV", trulyAccepted: true),
    ]

    static let cases: [(Forgery, Sealing)] = forgeries.flatMap { f in Sealing.allCases.map { (f, $0) } }

    @Test("a forged snapshot never changes what a writer accepts or refuses", arguments: cases)
    func forgedFieldIsIgnored(_ forgery: Forgery, _ sealing: Sealing) async throws {
        for server in [false, true] {
            let w = try await world()
            try await w.book.writeSnapshot(sealedBy: Fixture.dev)
            let genuine = try JSONParser.parse(try #require(try await w.store.loadSnapshot(Fixture.ref)))
            var o = genuine.objectValue!
            forgery.edit(&o)
            var forged = JSONValue.object(o)
            #expect(forged != genuine, "the forgery should change the document")
            switch sealing {
            case .keptSeal: break
            case .unsealed: forged = SnapshotSeal.unsealed(forged)
            case .impostorSeal: forged = SnapshotSeal.seal(SnapshotSeal.unsealed(forged), genesisHash: w.genesis.hash, with: Fixture.impostorDev)
            }
            w.store.setRawSnapshot(Fixture.ref, PrettyJSON.bytes(forged))

            let truth = try await w.replayed()
            let book = try await reopen(w, verifyKeys: server)
            #expect(try await book.state() == truth, "\(forgery.name) (\(sealing)): the opened state must be the journal's")
            // The reader replaced the forged file with the true state.
            let stored = try #require(try await w.store.loadSnapshot(Fixture.ref))
            #expect(stored == PrettyJSON.bytes(truth.snapshot()), "\(forgery.name): the forged file should be rebuilt")

            let signer = forgery.probeSigner.isEmpty ? nil : Fixture.key(forgery.probeSigner)
            let outcome = await logbookError { _ = try await book.submit(forgery.probe, signer: signer) }
            if forgery.trulyAccepted {
                #expect(outcome == nil, "\(forgery.name) (\(sealing), server \(server)): the true journal accepts the probe: \(outcome?.description ?? "")")
            } else {
                #expect(outcome != nil, "\(forgery.name) (\(sealing), server \(server)): the true journal refuses the probe")
            }
        }
    }

    // MARK: Proved snapshots

    @Test("a sealed snapshot bound to the journal is the start: lines before its seq are not read again")
    func provedSnapshotIsUsed() async throws {
        let w = try await world()
        try await w.book.writeSnapshot(sealedBy: Fixture.dev)
        try await w.submit(.achievement, nil, by: "DEV", ["summary": "after the snapshot"])
        let truth = try await w.replayed()
        // Damage seq 5 in place (same length): a replay from seq 0 would stop there.
        w.store.withRawLines(Fixture.ref) { lines in
            let s = String(decoding: lines[5], as: UTF8.self).replacingOccurrences(of: "\"red\"", with: "\"RED\"")
            #expect(Array(s.utf8) != lines[5])
            lines[5] = Array(s.utf8)
        }
        let book = try await reopen(w)
        #expect(try await book.state() == truth)
        // Without the snapshot the damage is found.
        w.store.setRawSnapshot(Fixture.ref, nil)
        let e = await logbookError { _ = try await reopen(w) }
        #expect(e?.code == .corrupt)
    }

    @Test("a sealed snapshot survives the round trip through its bytes, and verify ignores the seal")
    func sealRoundTrip() async throws {
        let w = try await world()
        try await w.submit(.unblocked, "T1", by: "DEV")
        try await w.submit(.progress, "T1", by: "DEV", ["percent": 33])  // completion 8.25
        try await w.book.writeSnapshot(sealedBy: Fixture.qa)
        let bytes = try #require(try await w.store.loadSnapshot(Fixture.ref))
        let doc = try JSONParser.parse(bytes)
        #expect(SnapshotSeal(doc)?.persona == "QA")
        #expect(SnapshotSeal.problem(doc, genesis: w.genesis) == nil)
        #expect(SnapshotSeal.problem(doc, genesis: try Event(line: try await w.lines()[1])) != nil, "another genesis")
        #expect(try await w.verify(snapshot: bytes).ok)
        // A changed byte anywhere breaks the seal.
        var edited = doc.objectValue!
        edited["os_file_header"] = .object(JSONObject([("file_id", "x")]))
        #expect(SnapshotSeal.problem(.object(edited), genesis: w.genesis) != nil)
    }

    @Test("a genuinely sealed snapshot of another history (the journal was cut and rewritten) is not bound to it")
    func sealedSnapshotOfAnotherHistory() async throws {
        let w = try await world()
        try await w.book.writeSnapshot(sealedBy: Fixture.dev)
        let sealed = try #require(try await w.store.loadSnapshot(Fixture.ref))
        // Another history of the same length: the last event differs.
        w.store.withRawLines(Fixture.ref) { $0.removeLast() }
        let book = try await reopen(w)
        _ = try await book.submit(EventRequest(type: .progress, task: "T4", persona: "DEV", data: ["percent": 10]), signer: Fixture.dev)
        w.store.setRawSnapshot(Fixture.ref, sealed)
        let truth = try await w.replayed()
        #expect(try await reopen(w).state() == truth)
    }

    @Test("an unsealed snapshot is rebuilt only when it differs; the next writer seals it")
    func unsealedIsResealed() async throws {
        let w = try await world()
        try await w.book.writeSnapshot()  // unsealed, as `plan lock` writes the first one
        let unsealed = try #require(try await w.store.loadSnapshot(Fixture.ref))
        #expect(SnapshotSeal(try JSONParser.parse(unsealed)) == nil)
        let reader = try await reopen(w)
        #expect(try await w.store.loadSnapshot(Fixture.ref) == unsealed, "a reader leaves a true unsealed snapshot as it is")
        _ = try await reader.submit(Self.note("DEV"), signer: Fixture.dev)
        let after = try JSONParser.parse(try #require(try await w.store.loadSnapshot(Fixture.ref)))
        #expect(SnapshotSeal(after)?.persona == "DEV")
        #expect(SnapshotSeal.problem(after, genesis: w.genesis) == nil)
        #expect(after["journal"]?["seq"] == .number(Double(try await w.replayed().seq)))
    }

    @Test("a snapshot claiming a seq beyond the journal's end is replaced by the next reader")
    func snapshotAheadIsReplaced() async throws {
        let w = try await world()
        var o = try await w.book.state().snapshot().objectValue!
        Self.journal(&o) { $0["seq"] = 5000 }
        w.store.setRawSnapshot(Fixture.ref, PrettyJSON.bytes(.object(o)))
        _ = try await reopen(w)
        let stored = try #require(try await w.store.loadSnapshot(Fixture.ref))
        #expect(SnapshotSeal.storedSeq(stored) == (try await w.replayed().seq))
    }

    @Test("a missing or damaged snapshot is rebuilt by the next reader", arguments: ["missing", "not JSON", "empty"])
    func rebuiltByReader(_ damage: String) async throws {
        let w = try await world()
        switch damage {
        case "missing": w.store.setRawSnapshot(Fixture.ref, nil)
        case "not JSON": w.store.setRawSnapshot(Fixture.ref, Array("{\"payload\": ".utf8))
        default: w.store.setRawSnapshot(Fixture.ref, [])
        }
        _ = try await reopen(w)
        let truth = try await w.replayed()
        #expect(try await w.store.loadSnapshot(Fixture.ref) == PrettyJSON.bytes(truth.snapshot()))
    }

    // MARK: Freshness

    @Test("the stored snapshot follows by events and by time: first commit, then past the time bound or every interval")
    func freshness() async throws {
        let w = try await world()
        let clock = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        let book = try await StatusBook.open(store: w.store, ref: Fixture.ref, plan: w.spec,
                                             options: .init(snapshotInterval: 64, now: { clock.withLock { $0 } }, currentG: { 101 }, snapshotMaxAge: 1))
        func storedSeq() async throws -> Int? { SnapshotSeal.storedSeq(try #require(try await w.store.loadSnapshot(Fixture.ref))) }
        func progress(_ p: Int) async throws -> Int {
            try await book.submit(EventRequest(type: .achievement, task: nil, persona: "DEV", data: ["summary": .string("step \(p)")]), signer: Fixture.dev).seq
        }
        // The book's first commit refreshes the file (a one-shot writer always leaves it at its event).
        let a = try await progress(41)
        #expect(try await storedSeq() == a)
        // Within the time bound and not at a multiple of the interval: left behind.
        _ = try await progress(42)
        #expect(try await storedSeq() == a)
        // Past the time bound: the next commit refreshes it.
        clock.withLock { $0 += 1.5 }
        let c = try await progress(43)
        #expect(try await storedSeq() == c)
    }

    // MARK: Errors surface

    /// A memory store whose snapshot writes fail.
    final class FailingSnapshots: ForwardingJournalStore {
        let inner: any JournalStore = MemoryJournalStore()
        func storeSnapshot(_ ref: JournalRef, _ bytes: [UInt8], seq: Int) async throws {
            throw LogbookError(.io, "write exec_status_\(ref.g).txt: No space left on device (the disk is full)")
        }
        func storeSnapshot(_ ref: JournalRef, _ bytes: [UInt8], seq: Int, _ write: SnapshotWrite) async throws {
            try await storeSnapshot(ref, bytes, seq: seq)
        }
    }

    @Test("a failed snapshot write is reported (warning on commit, error from writeSnapshot); the commit stands")
    func snapshotWriteErrorsSurface() async throws {
        let w = try await Fixture.world()
        let store = FailingSnapshots()
        try await store.createJournal(Fixture.ref, genesis: w.genesis.line)
        let warnings = Mutex<[String]>([])
        let book = try await StatusBook.open(store: store, ref: Fixture.ref, plan: w.spec,
                                             options: .init(now: Fixture.fixedNow, currentG: { 101 }, warn: { m in warnings.withLock { $0.append(m) } }))
        #expect(warnings.withLock { $0 }.contains { $0.contains("exec_status_100") && $0.contains("rebuild") })
        let e = try await book.submit(EventRequest(type: .started, task: "T1", persona: "DEV"), signer: Fixture.dev)
        #expect(e.seq == 1)
        #expect(warnings.withLock { $0 }.contains { $0.contains("exec_status_100") && $0.contains("seq 1") && $0.contains("disk is full") })
        let thrown = await logbookError { try await book.writeSnapshot(sealedBy: Fixture.dev) }
        #expect(thrown?.code == .io && thrown?.message.contains("exec_status_100.txt") == true)
    }

    // MARK: Plan digest

    @Test("a plan edited after lock is refused with verify's finding, naming the task", arguments: ["assignee", "dependency", "lock flags"])
    func editedPlanRefused(_ what: String) async throws {
        let w = try await Fixture.world()
        var tasks = Fixture.standardTasks
        var t3 = tasks[2].objectValue!
        switch what {
        case "assignee": t3["assigned_agent_persona"] = "QA"
        case "dependency": t3["dependencies"] = ["T1"]
        default: break
        }
        tasks[2] = .object(t3)
        let edited = what == "lock flags" ? PlanDocument(json: Fixture.planJSON(tasks: tasks)) : PlanDocument(json: Fixture.planJSON(tasks: tasks)).locked()
        let e = try #require(await logbookError { try PlanProof.check(edited, genesis: w.genesis) })
        #expect(e.code == .corrupt && e.seq == 0)
        #expect(e.message.contains(what == "lock flags" ? "lock flags were removed" : "task T3"), "\(e.message)")
        try PlanProof.check(w.plan, genesis: w.genesis)
    }
}
