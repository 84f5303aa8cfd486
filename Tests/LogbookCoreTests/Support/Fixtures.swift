import Foundation
import Testing
import LogbookCore

/// A small workspace in memory: personas with fixed keys, a locked plan, a genesis, a book.
///
/// Personas (all signed):
/// - `SUPERVISOR` supervisor, archetype `SUPERVISOR`
/// - `DEV` worker, archetype `CODER`
/// - `QA` worker, archetype `TESTER`
/// - `REVIEWER1` worker, archetype `REVIEWER` (authorised on T2 by archetype)
///
/// Plan `EP-TEST` (g 100):
/// - `T1` DEV, max_retries 1
/// - `T2` QA, authorised archetypes [REVIEWER], depends on T1
/// - `T3` DEV, depends on T1 and T2, max_retries 0
/// - `T4` DEV, no dependencies, max_retries 2
enum Fixture {
    static let planID = "EP-TEST"
    static let gPlan = 100
    static let ref = JournalRef(planID: planID, g: gPlan)
    static let genesisTS = "2025-01-01T00:00:00.000Z"

    /// A deterministic 32-byte seed per persona.
    static func seed(_ n: UInt8) -> [UInt8] { (0..<32).map { UInt8($0) &* 7 &+ n } }

    static let supervisor = try! SigningKey(persona: "SUPERVISOR", seed: seed(1))
    static let dev = try! SigningKey(persona: "DEV", seed: seed(2))
    static let qa = try! SigningKey(persona: "QA", seed: seed(3))
    static let reviewer = try! SigningKey(persona: "REVIEWER1", seed: seed(4))
    /// A key that claims to be DEV's but is not the one in the registry.
    static let impostorDev = try! SigningKey(persona: "DEV", seed: seed(99))

    static func key(_ persona: String) -> SigningKey {
        switch persona {
        case "SUPERVISOR": supervisor
        case "DEV": dev
        case "QA": qa
        case "REVIEWER1": reviewer
        default: fatalError("no key for \(persona)")
        }
    }

    static var registry: PersonaRegistry {
        PersonaRegistry(personas: [
            Persona(id: "SUPERVISOR", role: .supervisor, archetype: "SUPERVISOR", publicKey: supervisor.publicKey),
            Persona(id: "DEV", role: .worker, archetype: "CODER", publicKey: dev.publicKey),
            Persona(id: "QA", role: .worker, archetype: "TESTER", publicKey: qa.publicKey),
            Persona(id: "REVIEWER1", role: .worker, archetype: "REVIEWER", publicKey: reviewer.publicKey),
        ])
    }

    static func task(_ id: String, _ assignee: String, deps: [String] = [], maxRetries: Int = 0,
                     archetypes: [String] = []) -> JSONValue {
        .object(JSONObject([
            ("task_id", .string(id)),
            ("title", .string("Task \(id)")),
            ("description", .string("Does \(id).")),
            ("intent", "implementation"),
            ("assigned_agent_persona", .string(assignee)),
            ("authorized_agent_archetypes", .array(archetypes.map { .string($0) })),
            ("max_retries", .number(Double(maxRetries))),
            ("inputs", []),
            ("outputs", []),
            ("execution_checklist", []),
            ("dependencies", .array(deps.map { .string($0) })),
            ("criticality", "HIGH"),
            ("notes", ""),
        ]))
    }

    static func planJSON(id: String = planID, tasks: [JSONValue]) -> JSONValue {
        .object(JSONObject([
            ("os_file_header", .object(JSONObject([
                ("file_id", .string("exec_plan_\(gPlan)")),
                ("entity_type", "EXECUTION_PLAN"),
                ("schema_definition_id_ref", .string(PlanDocument.schemaID)),
                ("g_file_created", .number(Double(gPlan))),
                ("g_file_last_modified", .number(Double(gPlan))),
                ("v_file_instance", 1),
            ]))),
            ("payload", .object(JSONObject([
                ("execution_plan_id", .string(id)),
                ("plan_type", "IMPLEMENTATION"),
                ("plan_definition", .object(JSONObject([
                    ("goal", "Test the core"), ("scope_summary", "LogbookCore"), ("exclusions_summary", "files"),
                ]))),
                ("tasks", .array(tasks)),
            ]))),
        ]))
    }

    static var standardTasks: [JSONValue] {
        [
            task("T1", "DEV", maxRetries: 1),
            task("T2", "QA", deps: ["T1"], archetypes: ["REVIEWER"]),
            task("T3", "DEV", deps: ["T1", "T2"]),
            task("T4", "DEV", maxRetries: 2),
        ]
    }

    /// Everything a test needs: the store, the book, the locked plan and its spec.
    struct World {
        let store: MemoryJournalStore
        let book: StatusBook
        let plan: PlanDocument
        let spec: PlanSpec
        let registry: PersonaRegistry
        let genesis: Event
    }

    static let fixedNow: @Sendable () -> Date = { Date(timeIntervalSince1970: 1_735_689_600.25) }

    static func world(tasks: [JSONValue] = standardTasks, registry: PersonaRegistry = registry,
                      snapshotInterval: Int = 64) async throws -> World {
        let plan = PlanDocument(json: planJSON(tasks: tasks)).locked()
        let spec = try plan.spec(personas: registry)
        let genesis = try Genesis.make(plan: plan, spec: spec, gPlan: gPlan, g: gPlan + 1, registry: registry,
                                       locker: "SUPERVISOR", signer: supervisor, ts: genesisTS)
        let store = MemoryJournalStore()
        try await store.createJournal(ref, genesis: genesis.line)
        let book = try await StatusBook.open(store: store, ref: ref, plan: spec,
                                             options: .init(snapshotInterval: snapshotInterval, now: fixedNow, currentG: { 101 }))
        return World(store: store, book: book, plan: plan, spec: spec, registry: registry, genesis: genesis)
    }
}

extension Fixture.World {
    /// Submits an event signed with the persona's own key.
    @discardableResult
    func submit(_ type: EventType, _ task: String?, by persona: String, _ data: JSONObject = JSONObject(),
                idempotencyKey: String? = nil, expectedTaskSeq: Int? = nil) async throws -> Event {
        try await book.submit(EventRequest(type: type, task: task, persona: persona, data: data,
                                           idempotencyKey: idempotencyKey, expectedTaskSeq: expectedTaskSeq),
                              signer: Fixture.key(persona))
    }

    /// The raw journal lines (without newlines).
    func lines() async throws -> [[UInt8]] {
        try await store.read(Fixture.ref, from: 0, limit: Int.max).map(\.bytes)
    }

    /// Runs `verify` over the store as it is now.
    func verify(plan: PlanDocument? = nil, registry: PersonaRegistry? = nil, snapshot: [UInt8]? = nil) async throws -> VerifyReport {
        var v = Verifier(plan: plan ?? self.plan, spec: spec, registry: registry ?? self.registry, snapshot: snapshot)
        try await store.forEachLine(Fixture.ref) { v.feed($0) }
        return v.finish()
    }

    /// Replays the stored journal into a fresh state, checking every rule.
    func replayed() async throws -> StatusState {
        var s = StatusState(plan: spec)
        for l in try await lines() { try s.apply(try Event(line: l)) }
        return s
    }
}

/// The error `body` throws, as a ``LogbookError`` (nil if it did not throw one).
func logbookError(_ body: () async throws -> Void) async -> LogbookError? {
    do {
        try await body()
        return nil
    } catch let e as LogbookError {
        return e
    } catch {
        Issue.record("expected a LogbookError, got \(error)")
        return nil
    }
}

/// Text of `n` bytes.
func text(bytes n: Int) -> String { String(repeating: "x", count: n) }
