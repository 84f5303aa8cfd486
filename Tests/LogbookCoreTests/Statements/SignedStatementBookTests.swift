import Foundation
import Testing
import LogbookCore

/// `StatusBook.submit(_: SignedStatement)`: statements signed elsewhere (the book holds no key),
/// appended once, into their own plan only, verified with the key the journal records.
@Suite("Signed statements through the book")
struct SignedStatementBookTests {
    static func signed(_ w: Fixture.World, _ type: EventType, _ task: String?, by persona: String, data: JSONObject = JSONObject(),
                       seen: Statement.Seen, plan: String = Fixture.planID, at: String = "2025-01-01T00:00:00.100Z",
                       key: SigningKey? = nil) -> SignedStatement {
        let k = key ?? Fixture.key(persona)
        return SignedStatement(Statement(plan: plan, task: task, persona: persona, keyID: k.publicKey.keyID, type: type, data: data,
                                         at: at, seen: seen), signer: k)
    }

    static func head(_ w: Fixture.World) async throws -> Statement.Seen {
        let s = try await w.book.state()
        return Statement.Seen(seq: s.seq, hash: s.head!)
    }

    @Test("a statement signed elsewhere is appended; a second submit of it returns the first event")
    func appendOnce() async throws {
        let w = try await Fixture.world()
        let s = Self.signed(w, .started, "T1", by: "DEV", seen: try await Self.head(w))
        let e = try await w.book.submit(s)
        #expect(e.seq == 1 && e.stmt == s.statement && e.sig == s.sig)
        #expect(try await w.book.submit(s) == e)
        #expect(try await w.lines().count == 2, "the repeat wrote nothing")
        // Also after more events, and from a book opened later (which reads back to the seen head).
        try await w.submit(.progress, "T1", by: "DEV", ["percent": 10])
        let later = try await StatusBook.open(store: w.store, ref: Fixture.ref, plan: w.spec,
                                              options: .init(now: Fixture.fixedNow, currentG: { 101 }))
        #expect(try await later.submit(s) == e)
        #expect(try await w.lines().count == 3)
        #expect(try await w.verify().ok)
    }

    @Test("a late statement (seen an old head) from a book that must read back to it")
    func lateStatement() async throws {
        let w = try await Fixture.world()
        let seen = try await Self.head(w)  // the genesis
        try await w.submit(.started, "T1", by: "DEV")
        try await w.submit(.started, "T4", by: "DEV")
        let later = try await StatusBook.open(store: w.store, ref: Fixture.ref, plan: w.spec,
                                              options: .init(now: Fixture.fixedNow, currentG: { 101 }))
        let e = try await later.submit(Self.signed(w, .progress, "T1", by: "DEV", data: ["percent": 30], seen: seen))
        #expect(e.seq == 3 && e.seen == seen && e.lateness.events == 2)
        // Seen nothing at all (seq -1, the plan digest): the book reads back to the start.
        let fresh = try await StatusBook.open(store: w.store, ref: Fixture.ref, plan: w.spec,
                                              options: .init(now: Fixture.fixedNow, currentG: { 101 }))
        let blind = Self.signed(w, .progress, "T4", by: "DEV", data: ["percent": 1], seen: .init(seq: -1, hash: w.plan.digest))
        let f = try await fresh.submit(blind)
        #expect(f.seq == 4 && f.lateness.events == 4)
        #expect(try await fresh.submit(blind) == f, "its repeat is found by the scan from seq 0")
        let report = try await w.verify()
        #expect(report.ok, "\(String(describing: report.failure))")
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        var name: String
        var code: LogbookError.Code
        var rule: String
        var make: @Sendable (Fixture.World, Statement.Seen) -> SignedStatement
        var testDescription: String { name }
    }

    static let bad: [Bad] = [
        Bad(name: "another plan", code: .badInput, rule: "plan") { w, seen in signed(w, .started, "T1", by: "DEV", seen: seen, plan: "EP-OTHER") },
        Bad(name: "signed by a key the journal does not record", code: .badSignature, rule: "signature") { w, seen in
            signed(w, .started, "T1", by: "DEV", seen: seen, key: Fixture.impostorDev)
        },
        Bad(name: "signed by another persona's key under DEV's key id", code: .badSignature, rule: "signature") { w, seen in
            let s = signed(w, .started, "T1", by: "DEV", seen: seen)
            let forged = Fixture.qa.sign(message: Statement.signingBytes(s.bytes))
            return try! SignedStatement(bytes: s.bytes, sig: forged)
        },
        Bad(name: "a seen head this journal does not have", code: .conflict, rule: "seen") { w, seen in
            signed(w, .started, "T1", by: "DEV", seen: .init(seq: seen.seq, hash: Digest256.of(Array("fork".utf8))))
        },
        Bad(name: "a seen head beyond the journal's", code: .conflict, rule: "seen") { w, seen in
            signed(w, .started, "T1", by: "DEV", seen: .init(seq: seen.seq + 3, hash: seen.hash))
        },
    ]

    @Test("refusals name the rule and write nothing", arguments: bad)
    func refused(_ b: Bad) async throws {
        let w = try await Fixture.world()
        let before = try await w.lines()
        let e = await logbookError { _ = try await w.book.submit(b.make(w, try await Self.head(w))) }
        #expect(e?.code == b.code, "\(String(describing: e))")
        #expect(e?.rule == b.rule, "\(String(describing: e))")
        #expect(try await w.lines() == before)
    }

    @Test("statement bytes from the wire must be canonical")
    func canonicalBytesOnly() throws {
        let s = Statement(plan: "EP-TEST", task: "T1", persona: "DEV", keyID: nil, type: .started, at: "2025-01-01T00:00:00.000Z",
                          seen: .init(seq: 0, hash: Digest256.of([0])))
        var spaced = s.canonicalBytes
        spaced.insert(0x20, at: 1)
        let e = #expect(throws: LogbookError.self) { _ = try SignedStatement(bytes: spaced, sig: nil) }
        #expect(e?.rule == "statement")
        #expect(try SignedStatement(bytes: s.canonicalBytes, sig: nil).statement == s)
    }

    @Test("the book signs with seen = the head it knows, and the time from Options.now")
    func bookSignsItsHead() async throws {
        let w = try await Fixture.world()
        let a = try await w.submit(.started, "T1", by: "DEV")
        let b = try await w.submit(.progress, "T1", by: "DEV", ["percent": 5])
        #expect(a.seen == Statement.Seen(seq: 0, hash: w.genesis.hash))
        #expect(b.seen == Statement.Seen(seq: a.seq, hash: a.hash))
        #expect(b.at == Timestamp.string(Fixture.fixedNow()))
        #expect(Fixture.dev.publicKey.isValid(signature: b.sig!, message: b.signedBytes))
    }

    @Test("leadership passes to a waiting caller when a snapshot is due (no detached task): every append completes")
    func leadershipHandoff() async throws {
        let w = try await Fixture.world(snapshotInterval: 1)
        try await w.submit(.started, "T1", by: "DEV")
        let events = try await withThrowingTaskGroup(of: Event.self) { group in
            for i in 0..<48 {
                group.addTask {
                    try await w.book.submit(EventRequest(type: .progress, task: "T1", persona: "DEV", data: ["percent": JSONValue(i % 101)],
                                                         idempotencyKey: "p\(i)"), signer: Fixture.dev)
                }
            }
            var out: [Event] = []
            for try await e in group { out.append(e) }
            return out
        }
        #expect(Set(events.map(\.seq)) == Set(2...49))
        #expect(try await w.verify().ok)
    }
}
