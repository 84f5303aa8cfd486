import Foundation
import Testing
import LogbookCore

/// ``StatusState/admit(_:ts:g:history:)`` without any store: the rules that turn a signed
/// statement into the next event (plan, seen, repeats, idempotency, expected seq, facts, size).
@Suite("Admission (pure)")
struct AdmissionTests {
    /// The fixture plan's state after its genesis, and a history that knows the genesis.
    static func start() throws -> (state: StatusState, history: StatementHistory, genesis: Event) {
        let plan = PlanDocument(json: Fixture.planJSON(tasks: Fixture.standardTasks)).locked()
        let spec = try plan.spec(personas: Fixture.registry)
        let genesis = try Genesis.make(plan: plan, spec: spec, gPlan: Fixture.gPlan, g: Fixture.gPlan + 1, registry: Fixture.registry,
                                       locker: "SUPERVISOR", signer: Fixture.supervisor, ts: Fixture.genesisTS)
        var s = StatusState(plan: spec)
        try s.apply(genesis)
        return (s, StatementHistory(seq: 0, hash: genesis.hash), genesis)
    }

    static func statement(_ type: EventType, _ task: String?, by persona: String = "DEV", data: JSONObject = JSONObject(),
                          seen: Statement.Seen, plan: String = Fixture.planID, idempotencyKey: String? = nil,
                          expect: Int? = nil, at: String = "2025-01-01T00:00:01.000Z") -> SignedStatement {
        let key = Fixture.key(persona)
        return SignedStatement(Statement(plan: plan, task: task, persona: persona, keyID: key.publicKey.keyID, type: type, data: data,
                                         idempotencyKey: idempotencyKey, expectTaskSeq: expect, at: at, seen: seen), signer: key)
    }

    /// Admits and folds; returns the appended event (fails the test on a repeat).
    static func append(_ s: SignedStatement, _ state: inout StatusState, _ history: inout StatementHistory,
                       ts: String = "2025-01-01T00:00:02.000Z") throws -> Event {
        guard case .append(let e, let line) = try state.admitAndFold(s, ts: ts, g: 101, history: history) else {
            throw LogbookError(.conflict, "expected an append")
        }
        #expect(line == e.line)
        history.append(seq: e.seq, hash: e.hash, statement: s.digest)
        return e
    }

    @Test("an admitted statement is placed at the head: seq, prev, ts, g and facts assigned, the statement bytes verbatim")
    func placed() throws {
        var (state, history, genesis) = try Self.start()
        let seen = Statement.Seen(seq: 0, hash: genesis.hash)
        let s = Self.statement(.started, "T1", seen: seen)
        let e = try Self.append(s, &state, &history)
        #expect(e.seq == 1 && e.prev == genesis.hash && e.g == 101 && e.ts == "2025-01-01T00:00:02.000Z")
        #expect(e.facts["readiness"]?["ready"] == .bool(true))
        let line = e.line
        let r = try #require(Event.statementRange(in: Array(line.dropLast())))
        #expect(Array(line[r]) == s.bytes, "the line carries the signed bytes as they were signed")
        #expect(Fixture.dev.publicKey.isValid(signature: e.sig!, message: Statement.signingBytes(s.bytes)))
        #expect(e.lateness.events == 0)
        #expect(e.lateness.milliseconds == 1000)
        #expect(try Event(line: Array(line.dropLast())) == e)
    }

    @Test("facts are the store's: readiness of started, attempt of retried")
    func facts() throws {
        var (state, history, genesis) = try Self.start()
        var head = Statement.Seen(seq: 0, hash: genesis.hash)
        func next(_ type: EventType, _ data: JSONObject = JSONObject()) throws -> Event {
            let e = try Self.append(Self.statement(type, "T4", data: data, seen: head), &state, &history)
            head = Statement.Seen(seq: e.seq, hash: e.hash)
            return e
        }
        #expect(CanonicalJSON.string(.object(try next(.started).facts)) == #"{"readiness":{"dependencies":[],"override":false,"ready":true}}"#)
        #expect(try next(.failed, ["reason": "boom"]).facts.isEmpty)
        #expect(try next(.retried, ["reason": "again"]).facts["attempt"] == 1)
        _ = try next(.failed, ["reason": "boom"])
        #expect(try next(.retried, ["reason": "again"]).facts["attempt"] == 2)
        // A statement that states an attempt must state the store's.
        _ = try next(.failed, ["reason": "boom"])
        let e = #expect(throws: LogbookError.self) {
            _ = try state.admit(Self.statement(.retried, "T4", data: ["reason": "x", "attempt": 7], seen: head), ts: "2025-01-01T00:00:03.000Z", g: 101, history: history)
        }
        #expect(e?.rule == "retry_attempt")
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        var name: String
        var code: LogbookError.Code
        var rule: String?
        var make: @Sendable (_ genesis: Event) -> SignedStatement
        var testDescription: String { name }
    }

    static let refusals: [Refusal] = [
        Refusal(name: "another plan's statement", code: .badInput, rule: "plan") { g in
            statement(.started, "T1", seen: .init(seq: 0, hash: g.hash), plan: "EP-OTHER")
        },
        Refusal(name: "a seen head beyond the journal", code: .conflict, rule: "seen") { g in
            statement(.started, "T1", seen: .init(seq: 5, hash: g.hash))
        },
        Refusal(name: "a seen hash that is not this journal's", code: .conflict, rule: "seen") { _ in
            statement(.started, "T1", seen: .init(seq: 0, hash: Digest256.of(Array("elsewhere".utf8))))
        },
        Refusal(name: "seen -1 with another plan's digest", code: .conflict, rule: "seen") { g in
            statement(.started, "T1", seen: .init(seq: -1, hash: g.hash))
        },
        Refusal(name: "an unknown task", code: .notFound, rule: nil) { g in
            statement(.started, "T9", seen: .init(seq: 0, hash: g.hash))
        },
        Refusal(name: "a stale expected seq", code: .conflict, rule: "expected_seq") { g in
            statement(.started, "T1", seen: .init(seq: 0, hash: g.hash), expect: 3)
        },
        Refusal(name: "a rule of SPEC §4 (dependencies)", code: .refused, rule: "dependencies_done") { g in
            statement(.started, "T2", by: "QA", seen: .init(seq: 0, hash: g.hash))
        },
        Refusal(name: "too large", code: .badInput, rule: "size_limit") { g in
            statement(.progress, "T1", data: ["percent": 1, "notes": .array((0..<40).map { _ in .string(String(repeating: "x", count: 2000)) })],
                      seen: .init(seq: 0, hash: g.hash))
        },
    ]

    @Test("each refusal names its rule and leaves the state as it was", arguments: refusals)
    func refused(_ r: Refusal) throws {
        let (state, history, genesis) = try Self.start()
        var s = state
        let e = #expect(throws: LogbookError.self) { _ = try s.admitAndFold(r.make(genesis), ts: "2025-01-01T00:00:02.000Z", g: 101, history: history) }
        #expect(e?.code == r.code, "\(String(describing: e))")
        #expect(e?.rule == r.rule, "\(String(describing: e))")
        #expect(s == state)
    }

    @Test("the same statement again is a repeat of its first event; only events after its seen head are searched")
    func repeats() throws {
        var (state, history, genesis) = try Self.start()
        let seen = Statement.Seen(seq: 0, hash: genesis.hash)
        let s = Self.statement(.started, "T1", seen: seen)
        let first = try Self.append(s, &state, &history)
        // Another statement in between, then the same signed bytes again.
        _ = try Self.append(Self.statement(.progress, "T1", data: ["percent": 10], seen: seen), &state, &history)
        #expect(try state.admit(s, ts: "2025-01-01T00:00:09.000Z", g: 101, history: history) == .repeatOf(first.seq))
        // The same content signed at another time is another statement (here refused by the rules).
        let later = Self.statement(.started, "T1", seen: seen, at: "2025-01-01T00:00:05.000Z")
        #expect(throws: LogbookError.self) { _ = try state.admit(later, ts: "2025-01-01T00:00:09.000Z", g: 101, history: history) }
        // A history that does not reach back to the seen head cannot tell: the writer must read more.
        var short = StatementHistory(seq: state.seq, hash: state.head!)
        short.trim(to: 1)
        let e = #expect(throws: LogbookError.self) { _ = try state.admit(s, ts: "2025-01-01T00:00:09.000Z", g: 101, history: short) }
        #expect(e?.rule == "seen")
    }

    @Test("idempotency keys: the same request is a repeat, a different one is refused")
    func idempotency() throws {
        var (state, history, genesis) = try Self.start()
        let seen = Statement.Seen(seq: 0, hash: genesis.hash)
        _ = try Self.append(Self.statement(.started, "T1", seen: seen), &state, &history)
        let first = try Self.append(Self.statement(.progress, "T1", data: ["percent": 10], seen: seen, idempotencyKey: "k1"), &state, &history)
        let again = Self.statement(.progress, "T1", data: ["percent": 10], seen: .init(seq: first.seq, hash: first.hash), idempotencyKey: "k1")
        #expect(try state.admit(again, ts: "2025-01-01T00:00:09.000Z", g: 101, history: history) == .repeatOf(first.seq))
        let other = Self.statement(.progress, "T1", data: ["percent": 20], seen: .init(seq: first.seq, hash: first.hash), idempotencyKey: "k1")
        let e = #expect(throws: LogbookError.self) { _ = try state.admit(other, ts: "2025-01-01T00:00:09.000Z", g: 101, history: history) }
        #expect(e?.rule == "idempotency")
    }

    @Test("a late statement: seen an older head, lateness counted in events and time")
    func late() throws {
        var (state, history, genesis) = try Self.start()
        let seen = Statement.Seen(seq: 0, hash: genesis.hash)
        _ = try Self.append(Self.statement(.started, "T1", seen: seen), &state, &history)
        _ = try Self.append(Self.statement(.started, "T4", seen: seen), &state, &history)
        let e = try Self.append(Self.statement(.progress, "T1", data: ["percent": 5], seen: seen, at: "2024-12-31T23:59:00.000Z"),
                                &state, &history, ts: "2025-01-01T00:00:03.000Z")
        #expect(e.seq == 3)
        #expect(e.lateness.events == 2)
        #expect(e.lateness.milliseconds == 63_000)
    }

    @Test("StatementHistory stays contiguous: append, trim, truncate, prepend")
    func history() throws {
        var h = StatementHistory(seq: 3, hash: Digest256.of([3]))
        for s in 4...20 { h.append(seq: s, hash: Digest256.of([UInt8(s)]), statement: Digest256.of([UInt8(s), 1])) }
        #expect(h.head == 20 && h.hash(at: 3) == Digest256.of([3]) && h.hash(at: 20) == Digest256.of([20]) && h.hash(at: 2) == nil)
        #expect(h.firstSeq(of: Digest256.of([10, 1]), after: 3) == 10)
        #expect(h.firstSeq(of: Digest256.of([10, 1]), after: 10) == nil)
        h.truncate(after: 15)
        #expect(h.head == 15 && h.hash(at: 16) == nil)
        var older = StatementHistory(seq: 0, hash: Digest256.of([0]))
        for s in 1...3 { older.append(seq: s, hash: Digest256.of([UInt8(s)]), statement: Digest256.of([UInt8(s), 1])) }
        h.prepend(older)
        #expect(h.base == 0 && h.head == 15 && h.firstSeq(of: Digest256.of([2, 1]), after: 0) == 2)
        h.trim(to: 8)
        #expect(h.head == 15 && h.base == 11 && h.hash(at: 11) == Digest256.of([11]) && h.covers(after: 11) && !h.covers(after: 10))
    }
}
