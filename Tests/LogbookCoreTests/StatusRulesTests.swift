import Foundation
import Testing
import LogbookCore

/// The rules of SPEC §4, exercised through `StatusBook.submit` over the memory store.
/// After every refusal the journal must be exactly as it was.
@Suite("Status rules")
struct StatusRulesTests {
    typealias World = Fixture.World

    /// Submits `request` and expects a refusal with `code` and `rule`; the journal must not change.
    func expectRefused(_ w: World, _ request: EventRequest, signer: SigningKey?, code: LogbookError.Code, rule: String?,
                       mentions: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let before = try await w.lines()
        let error = await logbookError { _ = try await w.book.submit(request, signer: signer) }
        guard let error else {
            Issue.record("\(request.type.rawValue) by \(request.persona) on \(request.task ?? "the plan") was accepted", sourceLocation: sourceLocation)
            return
        }
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        #expect(error.rule == rule, "\(error)", sourceLocation: sourceLocation)
        #expect(error.plan == Fixture.planID, sourceLocation: sourceLocation)
        for m in mentions { #expect(error.description.contains(m), "\"\(error)\" should mention \(m)", sourceLocation: sourceLocation) }
        #expect(try await w.lines() == before, "a refused event changed the journal", sourceLocation: sourceLocation)
        #expect(try await w.book.state().seq == before.count - 1, sourceLocation: sourceLocation)
    }

    func expectRefused(_ w: World, _ type: EventType, _ task: String?, by persona: String, _ data: JSONObject = JSONObject(),
                       code: LogbookError.Code, rule: String?, mentions: [String] = [],
                       sourceLocation: SourceLocation = #_sourceLocation) async throws {
        try await expectRefused(w, EventRequest(type: type, task: task, persona: persona, data: data),
                                signer: Fixture.key(persona), code: code, rule: rule, mentions: mentions, sourceLocation: sourceLocation)
    }

    // MARK: Who may write

    @Test("the assignee may write; the event is chained, signed and folded")
    func assigneeWrites() async throws {
        let w = try await Fixture.world()
        let started = try await w.submit(.started, "T1", by: "DEV")
        #expect(started.seq == 1)
        #expect(started.prev == w.genesis.hash)
        #expect(started.persona == "DEV")
        #expect(try await w.book.state().task("T1")?.lastArchetype == "CODER")  // from the genesis record
        #expect(started.g == 101)
        #expect(started.ts == "2025-01-01T00:00:00.250Z")
        #expect(started.keyID == Fixture.dev.publicKey.keyID)
        #expect(started.hash == started.computedHash)
        #expect(Fixture.dev.publicKey.isValid(signature: started.sig ?? [], message: started.signedBytes))
        #expect(started.facts["readiness"]?["ready"] == .bool(true))

        let p = try await w.submit(.progress, "T1", by: "DEV", ["percent": 40, "note": "parser done"])
        #expect(p.seq == 2 && p.prev == started.hash)
        let lines = try await w.lines()
        #expect(lines == [w.genesis.line, started.line, p.line].map { Array($0.dropLast()) })

        let state = try await w.book.state()
        #expect(state.task("T1")?.status == .inProgress)
        #expect(state.task("T1")?.percent == 40)
        #expect(state.task("T1")?.lastSeq == 2)
        #expect(state.task("T1")?.lastHash == p.hash)
        #expect(state == (try await w.replayed()))
    }

    @Test("another worker may not write the task (rule assignee)")
    func otherWorkerRefused() async throws {
        let w = try await Fixture.world()
        try await expectRefused(w, .started, "T1", by: "QA", code: .forbidden, rule: "assignee", mentions: ["QA", "assigned to DEV"])
        try await w.submit(.started, "T1", by: "DEV")
        try await expectRefused(w, .progress, "T1", by: "QA", ["percent": 10], code: .forbidden, rule: "assignee")
        try await expectRefused(w, .done, "T1", by: "REVIEWER1", code: .forbidden, rule: "assignee")
        // Supervisors are not assignees either: started/progress/done are the assignee's.
        try await expectRefused(w, .progress, "T1", by: "SUPERVISOR", ["percent": 10], code: .forbidden, rule: "assignee")
        try await expectRefused(w, .blocked, "T1", by: "QA", ["reason": "waiting"], code: .forbidden, rule: "assignee_or_supervisor")
    }

    @Test("a persona whose archetype the task authorises may write it")
    func authorisedArchetype() async throws {
        let w = try await Fixture.world()
        try await w.submit(.started, "T1", by: "DEV")
        try await w.submit(.done, "T1", by: "DEV", ["summary": "ok"])
        let e = try await w.submit(.started, "T2", by: "REVIEWER1")
        #expect(e.persona == "REVIEWER1")
        #expect(try await w.book.state().task("T2")?.lastArchetype == "REVIEWER")
        try await w.submit(.progress, "T2", by: "REVIEWER1", ["percent": 50])
        // REVIEWER1's start claimed the task: even its assignee now waits for a requeue (issue 12).
        try await expectRefused(w, .progress, "T2", by: "QA", ["percent": 60], code: .forbidden, rule: "owner", mentions: ["claimed by REVIEWER1"])
        let t2 = try await w.book.state().task("T2")
        #expect(t2?.status == .inProgress && t2?.percent == 50 && t2?.owner == "REVIEWER1")
        #expect(t2?.lastPersona == "REVIEWER1")
    }

    @Test("achievements may come from any persona of the plan")
    func achievementsFromAnyone() async throws {
        let w = try await Fixture.world()
        try await w.submit(.achievement, "T1", by: "QA", ["summary": "found the spec"])
        try await w.submit(.achievement, nil, by: "REVIEWER1", ["summary": "plan-level note"])
        let state = try await w.book.state()
        #expect(state.achievements.count == 2)
        #expect(state.task("T1")?.status == .pending)
    }

    @Test("supervisor-only events are refused from workers and accepted from the supervisor")
    func supervisorOnly() async throws {
        let w = try await Fixture.world()
        try await expectRefused(w, .waived, "T4", by: "DEV", ["reason": "not needed"], code: .forbidden, rule: "supervisor_only")
        try await expectRefused(w, .lockOverride, "T2", by: "QA", ["reason": "urgent", "rule": "dependencies_done"],
                                code: .forbidden, rule: "supervisor_only")
        try await w.submit(.started, "T1", by: "DEV")
        try await w.submit(.done, "T1", by: "DEV")
        try await expectRefused(w, .reopened, "T1", by: "DEV", ["reason": "bug"], code: .forbidden, rule: "supervisor_only")
        try await expectRefused(w, .validationStarted, nil, by: "DEV", code: .forbidden, rule: "supervisor_only")

        try await w.submit(.reopened, "T1", by: "SUPERVISOR", ["reason": "bug found"])
        try await w.submit(.waived, "T4", by: "SUPERVISOR", ["reason": "out of scope"])
        try await w.submit(.blocked, "T1", by: "SUPERVISOR", ["reason": "waiting for review"])
        let s = try await w.book.state()
        #expect(s.task("T1")?.status == .blocked)
        #expect(s.task("T1")?.blockedFrom == .inProgress)
        #expect(s.task("T4")?.status == .waived)
        try await w.submit(.unblocked, "T1", by: "DEV")
        #expect(try await w.book.state().task("T1")?.status == .inProgress)
    }

    @Test("a persona not in the plan is refused (rule persona)")
    func unknownPersona() async throws {
        let w = try await Fixture.world()
        let ghost = EventRequest(type: .achievement, task: "T1", persona: "GHOST", data: ["summary": "boo"])
        try await expectRefused(w, ghost, signer: nil, code: .forbidden, rule: "persona", mentions: ["GHOST"])
    }

    @Test("an illegal transition is refused (rule transition)")
    func transitionRefused() async throws {
        let w = try await Fixture.world()
        try await expectRefused(w, .progress, "T1", by: "DEV", ["percent": 10], code: .refused, rule: "transition",
                                mentions: ["IN_PROGRESS", "PENDING"])
        try await expectRefused(w, .done, "T1", by: "DEV", code: .refused, rule: "transition")
        try await w.submit(.started, "T1", by: "DEV")
        try await expectRefused(w, .started, "T1", by: "DEV", code: .refused, rule: "transition")
        try await expectRefused(w, .retried, "T1", by: "DEV", ["reason": "again"], code: .refused, rule: "transition")
    }

    @Test("event data is checked (required fields)")
    func dataChecked() async throws {
        let w = try await Fixture.world()
        try await w.submit(.started, "T1", by: "DEV")
        try await expectRefused(w, .failed, "T1", by: "DEV", code: .badInput, rule: nil, mentions: ["reason"])
        try await expectRefused(w, .failed, "T1", by: "DEV", ["reason": "   "], code: .badInput, rule: nil)
        try await expectRefused(w, .progress, "T1", by: "DEV", code: .badInput, rule: nil, mentions: ["percent"])
        try await expectRefused(w, .testResult, "T1", by: "DEV", ["suite": "unit", "passed": 3], code: .badInput, rule: nil,
                                mentions: ["failed"])
        try await expectRefused(w, .lockOverride, "T1", by: "SUPERVISOR", ["reason": "x", "rule": "assignee"], code: .badInput, rule: nil)
        let t = try await w.submit(.testResult, "T1", by: "DEV", ["suite": "unit", "passed": 3, "failed": 1, "skipped": 0])
        #expect(t.seq == 2)
        let task = try await w.book.state().task("T1")
        #expect(task?.testsPassed == 3 && task?.testsFailed == 1)
    }

    // MARK: Readiness and retries

    @Test("started needs every dependency DONE (rule dependencies_done); lock_override lets it pass once")
    func dependencies() async throws {
        let w = try await Fixture.world()
        try await expectRefused(w, .started, "T2", by: "QA", code: .refused, rule: "dependencies_done",
                                mentions: ["T2", "dependency T1 is PENDING"])
        try await w.submit(.started, "T1", by: "DEV")
        try await expectRefused(w, .started, "T2", by: "QA", code: .refused, rule: "dependencies_done",
                                mentions: ["dependency T1 is IN_PROGRESS"])

        let o = try await w.submit(.lockOverride, "T2", by: "SUPERVISOR", ["reason": "T1 is nearly done", "rule": "dependencies_done"])
        #expect(try await w.book.state().task("T2")?.pendingOverrides == ["dependencies_done"])
        let s = try await w.submit(.started, "T2", by: "QA")
        #expect(s.facts["readiness"]?["ready"] == .bool(false))
        #expect(s.facts["readiness"]?["override"] == .bool(true))
        #expect(s.facts["readiness"]?["dependencies"] == [["task_id": "T1", "status": "IN_PROGRESS"]])
        let t2 = try await w.book.state().task("T2")
        #expect(t2?.status == .inProgress)
        #expect(t2?.pendingOverrides == [], "the override is consumed by the start it allowed")
        #expect(t2?.overrideLog.count == 1)
        #expect(t2?.overrideLog.first?["seq"] == .number(Double(o.seq)))

        // T3 waits for T1 and T2; a WAIVED dependency counts as met.
        try await expectRefused(w, .started, "T3", by: "DEV", code: .refused, rule: "dependencies_done", mentions: ["T1"])
        try await w.submit(.done, "T1", by: "DEV")
        try await expectRefused(w, .started, "T3", by: "DEV", code: .refused, rule: "dependencies_done",
                                mentions: ["dependency T2 is IN_PROGRESS"])
        try await w.submit(.waived, "T2", by: "SUPERVISOR", ["reason": "covered elsewhere"])
        let t3 = try await w.submit(.started, "T3", by: "DEV")
        #expect(t3.facts["readiness"]?["ready"] == .bool(true))
        #expect(t3.facts["readiness"]?["override"] == .bool(false))
    }

    @Test("retries beyond max_retries are refused (rule max_retries) unless overridden")
    func maxRetries() async throws {
        let w = try await Fixture.world()  // T1: max_retries 1
        try await w.submit(.started, "T1", by: "DEV")
        try await w.submit(.failed, "T1", by: "DEV", ["reason": "tests red"])
        let r1 = try await w.submit(.retried, "T1", by: "DEV", ["reason": "fixed a typo"])
        #expect(r1.facts["attempt"] == 1)
        try await w.submit(.failed, "T1", by: "DEV", ["reason": "still red"])
        try await expectRefused(w, .retried, "T1", by: "DEV", ["reason": "once more"], code: .refused, rule: "max_retries",
                                mentions: ["retry 2 would exceed max_retries 1"])
        try await expectRefused(w, .retried, "T1", by: "DEV", ["reason": "wrong attempt", "attempt": 5], code: .badInput,
                                rule: "retry_attempt")

        try await w.submit(.lockOverride, "T1", by: "SUPERVISOR", ["reason": "flaky CI", "rule": "max_retries"])
        let r2 = try await w.submit(.retried, "T1", by: "DEV", ["reason": "once more"])
        #expect(r2.facts["attempt"] == 2)
        let t1 = try await w.book.state().task("T1")
        #expect(t1?.attempts == 2)
        #expect(t1?.status == .inProgress)
        #expect(t1?.retryLog.count == 2 && t1?.failureDetails.count == 2)
        #expect(t1?.pendingOverrides == [])
        // The override was used up.
        try await w.submit(.failed, "T1", by: "DEV", ["reason": "red again"])
        try await expectRefused(w, .retried, "T1", by: "DEV", ["reason": "and again"], code: .refused, rule: "max_retries")
    }

    @Test("max_retries 0 allows no retry")
    func noRetries() async throws {
        let w = try await Fixture.world(tasks: [Fixture.task("T1", "DEV", maxRetries: 0)])
        try await w.submit(.started, "T1", by: "DEV")
        try await w.submit(.failed, "T1", by: "DEV", ["reason": "broken"])
        try await expectRefused(w, .retried, "T1", by: "DEV", ["reason": "please"], code: .refused, rule: "max_retries")
    }

    // MARK: Idempotency and optimistic concurrency

    @Test("idempotency: same key and content returns the first event; other content is a conflict")
    func idempotency() async throws {
        let w = try await Fixture.world()
        try await w.submit(.started, "T1", by: "DEV")
        let first = try await w.submit(.progress, "T1", by: "DEV", ["percent": 10], idempotencyKey: "report-1")
        try await w.submit(.progress, "T1", by: "DEV", ["percent": 20])
        let linesBefore = try await w.lines()

        let again = try await w.submit(.progress, "T1", by: "DEV", ["percent": 10], idempotencyKey: "report-1")
        #expect(again == first)
        #expect(try await w.lines() == linesBefore)
        #expect(try await w.book.state().task("T1")?.percent == 20, "a repeat does not fold again")

        try await expectRefused(w, EventRequest(type: .progress, task: "T1", persona: "DEV", data: ["percent": 30], idempotencyKey: "report-1"),
                                signer: Fixture.dev, code: .conflict, rule: "idempotency", mentions: ["report-1", "seq \(first.seq)"])
        try await expectRefused(w, EventRequest(type: .progress, task: "T4", persona: "DEV", data: ["percent": 10], idempotencyKey: "report-1"),
                                signer: Fixture.dev, code: .conflict, rule: "idempotency")
        try await expectRefused(w, EventRequest(type: .progress, task: "T1", persona: "DEV", data: ["percent": 10], idempotencyKey: ""),
                                signer: Fixture.dev, code: .badInput, rule: nil)
        // Keys survive a reopen (they are part of the folded state).
        let reopened = try await StatusBook.open(store: w.store, ref: Fixture.ref, plan: w.spec)
        let third = try await reopened.submit(EventRequest(type: .progress, task: "T1", persona: "DEV", data: ["percent": 10],
                                                           idempotencyKey: "report-1"), signer: Fixture.dev)
        #expect(third == first)
        #expect(try await w.lines() == linesBefore)
    }

    @Test("concurrent repeats of one idempotent request land once")
    func concurrentIdempotency() async throws {
        let w = try await Fixture.world()
        try await w.submit(.started, "T1", by: "DEV")
        let events = try await withThrowingTaskGroup(of: Event.self) { group in
            for _ in 0..<32 {
                group.addTask { try await w.submit(.progress, "T1", by: "DEV", ["percent": 10], idempotencyKey: "once") }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(events.map(\.seq)) == [2])
        #expect(try await w.lines().count == 3)
    }

    @Test("a stale expected task seq is a conflict")
    func expectedTaskSeq() async throws {
        let w = try await Fixture.world()
        // A task nothing has touched yet counts as last changed by the genesis (seq 0).
        let s = try await w.submit(.started, "T1", by: "DEV", expectedTaskSeq: 0)
        try await w.submit(.started, "T4", by: "DEV")  // another task moving does not matter
        let p = try await w.submit(.progress, "T1", by: "DEV", ["percent": 10], expectedTaskSeq: s.seq)
        try await expectRefused(w, EventRequest(type: .progress, task: "T1", persona: "DEV", data: ["percent": 20], expectedTaskSeq: s.seq),
                                signer: Fixture.dev, code: .conflict, rule: "expected_seq",
                                mentions: ["seq \(p.seq)", "expected \(s.seq)"])
        try await w.submit(.progress, "T1", by: "DEV", ["percent": 20], expectedTaskSeq: p.seq)
    }

    // MARK: Limits

    @Test("text up to 8 KiB is accepted; more is refused (rule size_limit)")
    func textLimit() async throws {
        let w = try await Fixture.world()
        try await w.submit(.started, "T1", by: "DEV")
        try await w.submit(.progress, "T1", by: "DEV", ["percent": 5, "note": .string(text(bytes: Event.maxTextBytes))])
        try await expectRefused(w, .progress, "T1", by: "DEV", ["percent": 6, "note": .string(text(bytes: Event.maxTextBytes + 1))],
                                code: .badInput, rule: "size_limit", mentions: ["8193 bytes", "8192"])
        try await expectRefused(w, .blocked, "T1", by: "DEV", ["reason": .string(String(repeating: "é", count: 4097))],
                                code: .badInput, rule: "size_limit")
        try await expectRefused(w, .done, "T1", by: "DEV", ["summary": .string(text(bytes: 9000))], code: .badInput, rule: "size_limit")
    }

    @Test("an event over 64 KiB is refused (rule size_limit)")
    func eventLimit() async throws {
        let w = try await Fixture.world()
        try await w.submit(.started, "T1", by: "DEV")
        let outputs: [JSONValue] = (0..<10).map { _ in .string(text(bytes: 7000)) }
        try await expectRefused(w, .done, "T1", by: "DEV", ["outputs": .array(outputs)], code: .badInput, rule: "size_limit",
                                mentions: ["65536"])
        let fits: [JSONValue] = (0..<8).map { _ in .string(text(bytes: 7000)) }
        try await w.submit(.done, "T1", by: "DEV", ["outputs": .array(fits)])
    }

    static let badPercents: [JSONValue] = [101, -1, 40.5, "40", .null, 1000]

    @Test("percent must be a whole number 0–100 (rule percent_range)", arguments: badPercents)
    func percentRange(_ percent: JSONValue) async throws {
        let w = try await Fixture.world()
        try await w.submit(.started, "T1", by: "DEV")
        try await expectRefused(w, .progress, "T1", by: "DEV", ["percent": percent], code: .badInput, rule: "percent_range")
    }

    @Test("percent 0 and 100 are accepted", arguments: [0, 100])
    func percentBounds(_ percent: Int) async throws {
        let w = try await Fixture.world()
        try await w.submit(.started, "T1", by: "DEV")
        try await w.submit(.progress, "T1", by: "DEV", ["percent": .number(Double(percent))])
        #expect(try await w.book.state().task("T1")?.percent == percent)
    }

    @Test("an unknown task is not found")
    func unknownTask() async throws {
        let w = try await Fixture.world()
        try await expectRefused(w, .started, "T99", by: "DEV", code: .notFound, rule: nil, mentions: ["T99"])
        try await expectRefused(w, EventRequest(type: .started, task: "T99", persona: "DEV", expectedTaskSeq: 0),
                                signer: Fixture.dev, code: .notFound, rule: nil)
    }

    // MARK: Signatures

    @Test("a key of another persona is refused")
    func wrongPersonaKey() async throws {
        let w = try await Fixture.world()
        try await expectRefused(w, EventRequest(type: .started, task: "T1", persona: "DEV"), signer: Fixture.qa,
                                code: .badSignature, rule: nil, mentions: ["QA", "DEV"])
    }

    @Test("a key that is not the registered one is refused")
    func impostorKey() async throws {
        let w = try await Fixture.world()
        try await expectRefused(w, EventRequest(type: .started, task: "T1", persona: "DEV"), signer: Fixture.impostorDev,
                                code: .badSignature, rule: "signature", mentions: [Fixture.dev.publicKey.keyID])
    }

    @Test("an unsigned event from a persona with a key is refused")
    func unsignedRefused() async throws {
        let w = try await Fixture.world()
        try await expectRefused(w, EventRequest(type: .started, task: "T1", persona: "DEV"), signer: nil,
                                code: .badSignature, rule: "signature", mentions: ["must sign"])
    }

    @Test("StatusState.check refuses a forged or unsigned event built by hand")
    func checkRefusesForgery() async throws {
        let w = try await Fixture.world()
        let state = try await w.book.state()
        func event(signer: SigningKey?, persona: String = "DEV") -> Event {
            var e = Event.make(seq: 1, prev: w.genesis.hash, ts: Fixture.genesisTS, g: 1, plan: Fixture.planID, task: "T1",
                               persona: persona, type: .started, data: [:], signer: signer)
            e.facts = state.facts(for: e.stmt)  // the readiness the store would derive
            e.hash = e.computedHash
            return e
        }
        #expect(throws: Never.self) { try state.check(event(signer: Fixture.dev)) }
        for bad in [event(signer: nil), event(signer: Fixture.impostorDev), event(signer: Fixture.qa)] {
            let e = #expect(throws: LogbookError.self) { try state.check(bad) }
            #expect(e?.code == .badSignature)
        }
        var wrongSeq = event(signer: Fixture.dev)
        wrongSeq.seq = 5
        let e = #expect(throws: LogbookError.self) { try state.check(wrongSeq) }
        #expect(e?.rule == "seq" && e?.code == .conflict)
    }

    @Test("unsigned personas write only where the workspace allows it")
    func unsignedWorkspace() async throws {
        func registry(allow: Bool) -> PersonaRegistry {
            PersonaRegistry(personas: [
                Persona(id: "SUPERVISOR", role: .supervisor, archetype: "SUPERVISOR", publicKey: Fixture.supervisor.publicKey),
                Persona(id: "DEV", role: .worker, archetype: "CODER", publicKey: nil),
            ], allowUnsigned: allow)
        }
        let tasks = [Fixture.task("T1", "DEV")]
        let open = try await Fixture.world(tasks: tasks, registry: registry(allow: true))
        let e = try await open.book.submit(EventRequest(type: .started, task: "T1", persona: "DEV"), signer: nil)
        #expect(e.sig == nil && e.keyID == nil)
        #expect(try await open.book.state().unsignedCount == 1)
        #expect(try await open.verify().unsigned == 1)

        let closed = try await Fixture.world(tasks: tasks, registry: registry(allow: false))
        try await expectRefused(closed, EventRequest(type: .started, task: "T1", persona: "DEV"), signer: nil,
                                code: .badSignature, rule: "signature", mentions: ["unsigned"])
    }

    // MARK: Group commit

    @Test("64 tasks × 20 concurrent events land exactly once with gap-free seq")
    func concurrentSubmits() async throws {
        let ids = (0..<64).map { String(format: "W%02d", $0) }
        let w = try await Fixture.world(tasks: ids.map { Fixture.task($0, "DEV") }, snapshotInterval: 100)
        let events = try await withThrowingTaskGroup(of: [Event].self) { group in
            for id in ids {
                group.addTask {
                    var mine: [Event] = []
                    mine.append(try await w.submit(.started, id, by: "DEV"))
                    for p in 1..<20 { mine.append(try await w.submit(.progress, id, by: "DEV", ["percent": .number(Double(p * 5))])) }
                    return mine
                }
            }
            return try await group.reduce(into: [[Event]]()) { $0.append($1) }
        }
        let all = events.flatMap { $0 }
        #expect(all.count == 64 * 20)
        #expect(Set(all.map(\.seq)) == Set(1...(64 * 20)))
        for mine in events { #expect(mine.map(\.seq) == mine.map(\.seq).sorted(), "one writer's events stay in its order") }

        let lines = try await w.lines()
        #expect(lines.count == 64 * 20 + 1)
        var prev = w.genesis.hash
        for (i, l) in lines.enumerated().dropFirst() {
            let e = try Event(line: l)
            #expect(e.seq == i)
            #expect(e.prev == prev)
            prev = e.hash
        }
        let byHash = Dictionary(uniqueKeysWithValues: all.map { ($0.hash, $0) })
        #expect(byHash.count == all.count)
        let state = try await w.book.state()
        #expect(state.seq == 64 * 20)
        #expect(state.tasks.allSatisfy { $0.status == .inProgress && $0.percent == 95 })
        #expect(state == (try await w.replayed()))
        #expect(try await w.verify().ok)
    }

    @Test("a batch with refusals still commits the accepted requests")
    func mixedBatch() async throws {
        let w = try await Fixture.world()
        try await w.submit(.started, "T1", by: "DEV")
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<40 {
                group.addTask {
                    // Even i: legal progress; odd i: a refused write by another worker.
                    let persona = i % 2 == 0 ? "DEV" : "QA"
                    return (try? await w.submit(.progress, "T1", by: persona, ["percent": .number(Double(i))])) != nil
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 20)
        #expect(try await w.lines().count == 2 + 20)
        #expect(try await w.verify().ok)
    }
}
