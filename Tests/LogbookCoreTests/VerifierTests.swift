import Foundation
import Testing
import LogbookCore

/// `verify` (SPEC §9) against every kind of tampering, on the memory store.
@Suite("Verifier")
struct VerifierTests {
    /// A journal of eight events (seq 0–7).
    func world() async throws -> Fixture.World {
        let w = try await Fixture.world()
        try await w.submit(.started, "T1", by: "DEV")                       // 1
        try await w.submit(.progress, "T1", by: "DEV", ["percent": 40])     // 2
        try await w.submit(.started, "T4", by: "DEV")                       // 3
        try await w.submit(.progress, "T4", by: "DEV", ["percent": 10])     // 4
        try await w.submit(.done, "T1", by: "DEV")                          // 5
        try await w.submit(.started, "T2", by: "QA")                        // 6
        try await w.submit(.progress, "T2", by: "QA", ["percent": 50])      // 7
        return w
    }

    func tamper(_ w: Fixture.World, _ edit: (inout [[UInt8]]) -> Void) {
        w.store.withRawLines(Fixture.ref, edit)
    }

    /// The line rewritten canonically after `edit` changes its JSON.
    func edited(_ line: [UInt8], _ edit: (inout JSONObject) -> Void) throws -> [UInt8] {
        var o = try JSONParser.parse(line).objectValue!
        edit(&o)
        return CanonicalJSON.bytes(.object(o))
    }

    func expectFailure(_ report: VerifyReport, _ kind: VerifyReport.Kind, seq: Int?, mentions: [String] = [],
                       sourceLocation: SourceLocation = #_sourceLocation) {
        guard let f = report.failure else {
            Issue.record("verify passed; expected \(kind.rawValue) at seq \(seq.map(String.init) ?? "-")", sourceLocation: sourceLocation)
            return
        }
        #expect(f.kind == kind, "\(f)", sourceLocation: sourceLocation)
        #expect(f.seq == seq, "\(f)", sourceLocation: sourceLocation)
        #expect(!report.ok, sourceLocation: sourceLocation)
        for m in mentions { #expect(f.message.contains(m), "\"\(f.message)\" should mention \(m)", sourceLocation: sourceLocation) }
    }

    @Test("an intact journal passes")
    func intact() async throws {
        let w = try await world()
        let report = try await w.verify()
        #expect(report.ok, "\(report.failure.map(String.init(describing:)) ?? "")")
        #expect(report.events == 8)
        #expect(report.lastSeq == 7)
        #expect(report.unsigned == 0)
        #expect(report.head == (try await w.book.state().head))
        #expect(report.warnings.isEmpty)
        try await w.book.writeSnapshot()
        #expect(try await w.verify(snapshot: try await w.store.loadSnapshot(Fixture.ref)).ok)
    }

    @Test("an edited field (content no longer matches its hash)")
    func editedField() async throws {
        let w = try await world()
        tamper(w) { lines in lines[4] = try! edited(lines[4]) { o in
            var st = o["stmt"]!.objectValue!
            st["data"] = ["percent": 99]
            o["stmt"] = .object(st)
        } }
        expectFailure(try await w.verify(), .edited, seq: 4, mentions: ["hash"])
    }

    @Test("an edited field with the hash recomputed breaks the signature")
    func editedAndRehashed() async throws {
        let w = try await world()
        tamper(w) { lines in
            var e = try! Event(line: lines[4])
            e.data = ["percent": 99]
            e.hash = e.computedHash
            lines[4] = Array(e.line.dropLast())
        }
        expectFailure(try await w.verify(), .forgedSignature, seq: 4)
    }

    @Test("bytes changed without changing the value (not canonical)")
    func nonCanonicalBytes() async throws {
        let w = try await world()
        tamper(w) { lines in lines[2] = Array("{ ".utf8) + lines[2].dropFirst() }
        expectFailure(try await w.verify(), .edited, seq: 2, mentions: ["canonical"])
    }

    @Test("a deleted line", arguments: [1, 3, 6])
    func deletedLine(_ seq: Int) async throws {
        let w = try await world()
        tamper(w) { $0.remove(at: seq) }
        expectFailure(try await w.verify(), .deleted, seq: seq, mentions: ["seq \(seq) is missing"])
    }

    @Test("a deleted genesis")
    func deletedGenesis() async throws {
        let w = try await world()
        tamper(w) { $0.removeFirst() }
        expectFailure(try await w.verify(), .deleted, seq: 0, mentions: ["genesis"])
    }

    @Test("swapped lines", arguments: [1, 3, 6])
    func swappedLines(_ seq: Int) async throws {
        let w = try await world()
        tamper(w) { $0.swapAt(seq, seq + 1) }
        expectFailure(try await w.verify(), .reordered, seq: seq, mentions: ["swapped"])
    }

    @Test("a line moved further down")
    func movedLine() async throws {
        let w = try await world()
        tamper(w) { lines in lines.insert(lines.remove(at: 2), at: 6) }
        expectFailure(try await w.verify(), .reordered, seq: 2)
    }

    @Test("a duplicated line", arguments: [1, 4, 7])
    func duplicatedLine(_ seq: Int) async throws {
        let w = try await world()
        tamper(w) { lines in lines.insert(lines[seq], at: seq + 1) }
        expectFailure(try await w.verify(), .duplicated, seq: seq, mentions: ["twice"])
    }

    @Test("a second, different event claiming an existing seq")
    func insertedEvent() async throws {
        let w = try await world()
        tamper(w) { lines in
            let original = try! Event(line: lines[3])
            let fake = Event.make(seq: 3, prev: original.prev, ts: original.ts, g: original.g, plan: original.plan, task: "T4",
                                  persona: "DEV", type: .started, data: ["note": "again"], signer: Fixture.dev)
            lines.insert(Array(fake.line.dropLast()), at: 4)
        }
        expectFailure(try await w.verify(), .inserted, seq: 3)
    }

    @Test("a replaced event whose prev does not chain")
    func chainBroken() async throws {
        let w = try await world()
        tamper(w) { lines in
            let original = try! Event(line: lines[5])
            let fake = Event.make(seq: 5, prev: Digest256.of(Array("elsewhere".utf8)), ts: original.ts, g: original.g,
                                  plan: original.plan, task: "T1", persona: "DEV", type: .done, data: [:],
                                  signer: Fixture.dev)
            lines[5] = Array(fake.line.dropLast())
        }
        expectFailure(try await w.verify(), .chainBroken, seq: 5)
    }

    @Test("a forged signature: the event re-signed with another key")
    func resignedWithAnotherKey() async throws {
        let w = try await world()
        tamper(w) { lines in
            let e = try! Event(line: lines[4])
            let forged = Event.make(seq: e.seq, prev: e.prev, ts: e.ts, g: e.g, plan: e.plan, task: e.task, persona: e.persona,
                                    type: e.type, data: ["percent": 100], signer: Fixture.impostorDev)
            lines[4] = Array(forged.line.dropLast())
        }
        expectFailure(try await w.verify(), .forgedSignature, seq: 4, mentions: [Fixture.dev.publicKey.keyID])
    }

    @Test("a forged signature: the right key id, a signature by another key")
    func signatureByAnotherKey() async throws {
        let w = try await world()
        tamper(w) { lines in
            var e = try! Event(line: lines[4])
            e.sig = Fixture.impostorDev.sign(message: e.signedBytes)
            e.hash = e.computedHash  // the hash covers the signature
            lines[4] = Array(e.line.dropLast())
        }
        expectFailure(try await w.verify(), .forgedSignature, seq: 4, mentions: ["does not verify"])
    }

    @Test("a forged signature: another persona's registered key")
    func signedByAnotherPersona() async throws {
        let w = try await world()
        tamper(w) { lines in
            let e = try! Event(line: lines[4])
            let forged = Event.make(seq: e.seq, prev: e.prev, ts: e.ts, g: e.g, plan: e.plan, task: e.task, persona: e.persona,
                                    type: e.type, data: e.data, signer: Fixture.qa)
            lines[4] = Array(forged.line.dropLast())
        }
        expectFailure(try await w.verify(), .forgedSignature, seq: 4)
    }

    @Test("a signature stripped from an event")
    func strippedSignature() async throws {
        let w = try await world()
        tamper(w) { lines in
            lines[6] = try! edited(lines[6]) { o in
                var st = o["stmt"]!.objectValue!
                st["key_id"] = nil
                o["stmt"] = .object(st)
                o["sig"] = nil
            }
            var e = try! Event(line: lines[6])
            e.hash = e.computedHash
            lines[6] = Array(e.line.dropLast())
        }
        expectFailure(try await w.verify(), .missingSignature, seq: 6)
    }

    @Test("the plan edited after lock names the task")
    func planEdited() async throws {
        let w = try await world()
        var payload = w.plan.json["payload"]!.objectValue!
        var tasks = payload["tasks"]!.arrayValue!
        var t2 = tasks[1].objectValue!
        t2["title"] = "Something else"
        tasks[1] = .object(t2)
        payload["tasks"] = .array(tasks)
        var root = w.plan.json.objectValue!
        root["payload"] = .object(payload)
        let editedPlan = PlanDocument(json: .object(root))
        #expect(editedPlan.isLocked)
        expectFailure(try await w.verify(plan: editedPlan), .planEdited, seq: 0, mentions: ["T2", "payload.tasks[1]"])
    }

    @Test("the plan edited outside its tasks")
    func planDefinitionEdited() async throws {
        let w = try await world()
        var payload = w.plan.json["payload"]!.objectValue!
        payload["plan_definition"] = ["goal": "Another goal"]
        var root = w.plan.json.objectValue!
        root["payload"] = .object(payload)
        expectFailure(try await w.verify(plan: PlanDocument(json: .object(root))), .planEdited, seq: 0, mentions: ["outside payload.tasks"])
    }

    @Test("the plan's lock flags removed")
    func planUnlocked() async throws {
        let w = try await world()
        let unlocked = PlanDocument(json: Fixture.planJSON(tasks: Fixture.standardTasks))
        expectFailure(try await w.verify(plan: unlocked), .planNotLocked, seq: 0)
    }

    @Test("a key swapped in personas.json after lock")
    func keySwapped() async throws {
        let w = try await world()
        var registry = w.registry
        registry.personas["DEV"]?.publicKey = Fixture.impostorDev.publicKey
        expectFailure(try await w.verify(registry: registry), .keySwapped, seq: 0, mentions: ["DEV", Fixture.dev.publicKey.keyID])
    }

    @Test("an unparseable line")
    func garbage() async throws {
        let w = try await world()
        tamper(w) { $0[5] = Array("{\"v\":1,".utf8) }
        expectFailure(try await w.verify(), .unparseable, seq: 5)
    }

    @Test("a well-signed event that breaks a rule")
    func illegalEvent() async throws {
        let w = try await world()
        let head = try await w.book.state().head!
        tamper(w) { lines in
            // DEV signs `done` on T2, which is QA's task.
            let e = Event.make(seq: 8, prev: head, ts: "2025-01-01T00:00:01.000Z", g: 101, plan: Fixture.planID, task: "T2",
                               persona: "DEV", type: .done, data: [:], signer: Fixture.dev)
            lines.append(Array(e.line.dropLast()))
        }
        expectFailure(try await w.verify(), .illegalEvent, seq: 8, mentions: ["assignee"])
    }

    @Test("a journal cut short behind a snapshot")
    func truncatedAgainstSnapshot() async throws {
        let w = try await world()
        try await w.book.writeSnapshot()
        let snapshot = try await w.store.loadSnapshot(Fixture.ref)
        tamper(w) { $0.removeLast() }
        expectFailure(try await w.verify(snapshot: snapshot), .truncated, seq: 7)
    }

    @Test("a snapshot edited behind the journal's back")
    func snapshotEdited() async throws {
        let w = try await world()
        try await w.book.writeSnapshot()
        var snapshot = try await w.store.loadSnapshot(Fixture.ref)!
        let text = String(decoding: snapshot, as: UTF8.self).replacingOccurrences(of: "\"reported_percent\": 50", with: "\"reported_percent\": 55")
        #expect(Array(text.utf8) != snapshot)
        snapshot = Array(text.utf8)
        expectFailure(try await w.verify(snapshot: snapshot), .snapshotMismatch, seq: 7)
    }

    @Test("an empty journal")
    func empty() async throws {
        let w = try await world()
        tamper(w) { $0.removeAll() }
        expectFailure(try await w.verify(), .empty, seq: nil)
    }

    @Test("the first failure wins")
    func firstFailure() async throws {
        let w = try await world()
        tamper(w) { lines in
            lines[2] = try! edited(lines[2]) { o in o["ts"] = "2030-01-01T00:00:00.000Z" }
            lines.remove(at: 5)
        }
        expectFailure(try await w.verify(), .edited, seq: 2)
    }
}

/// The order-free line checks `verify` runs on every core (parse, canonical form, hash, signature).
@Suite("Verifier prechecks")
struct VerifierPrecheckTests {
    static let key = SigningKey(generatingFor: "DEV")

    static func event(task: String? = "T1", data: JSONObject, trace: String? = nil, idem: String? = nil, signed: Bool = true) -> Event {
        Event.make(seq: 7, prev: Digest256.of([7]), ts: "2026-11-25T22:33:47.139Z", g: 3, plan: "EP-1", task: task,
                   persona: "DEV", type: .progress, data: data,
                   traceID: trace, idempotencyKey: idem, signer: signed ? key : nil)
    }

    static let events: [Event] = [
        event(data: ["percent": 40, "note": "plain"]),
        event(task: nil, data: ["percent": 1]),
        event(data: ["percent": 2, "hash": "sha256:00", "sig": "x", "nested": ["hash": ["sig": "\"}{,"]]], signed: false),
        event(data: ["percent": 3, "note": "é \u{1F600} \\ \" , } {"], trace: "4bf92f3577b34da6a3ce929d0e0e4736", idem: "k-1"),
        event(data: [:], idem: "only-key", signed: false),
    ]

    @Test(arguments: 0..<events.count) func aCanonicalLinePassesAndItsHashMatches(_ i: Int) {
        let e = Self.events[i]
        var line = e.line
        line.removeLast()
        let c = Verifier.precheck(JournalLine(bytes: line, end: 0), keys: [Self.key.publicKey.keyID: Self.key.publicKey])
        #expect(c.isCanonical)
        #expect(c.isHashValid)
        #expect(c.eventHash == e.hash)
    }

    @Test(arguments: 0..<events.count) func aReformattedLineIsNotCanonical(_ i: Int) {
        var line = Self.events[i].line
        line.removeLast()
        let spaced = Array(String(decoding: line, as: UTF8.self).replacingOccurrences(of: "\",\"", with: "\", \"").utf8)
        let c = Verifier.precheck(JournalLine(bytes: spaced, end: 0), keys: [:])
        #expect(!c.isCanonical)
        #expect(!c.isHashValid)
    }
}
