import Foundation
import LogbookCore

/// A locked plan with signed personas, created on a store under test: SUPERVISOR, WORKER and
/// WORKER2 (IMPLEMENTER), TESTER_BOT (TESTER); tasks T1 → T2 → T3 for WORKER, T4 for WORKER2
/// (max_retries 1), T5 for WORKER2 or any TESTER. Keys and the clock are fixed, so the same
/// events give the same bytes on every backend.
public struct ConformanceFixture: Sendable {
    public let store: any JournalStore
    public let ref: JournalRef
    public let doc: PlanDocument
    public let spec: PlanSpec
    public let registry: PersonaRegistry
    public let keys: [String: SigningKey]

    /// The fixed clock of every book the fixture opens.
    public static let now: @Sendable () -> Date = { Date(timeIntervalSince1970: 1_767_225_600.5) }

    static func seed(_ n: UInt8) -> [UInt8] { (0..<32).map { UInt8($0) &* 11 &+ n } }

    public static func planJSON(id: String) -> JSONValue {
        func task(_ id: String, _ who: String, deps: [String] = [], retries: Int = 0, archetypes: [String] = []) -> JSONValue {
            ["task_id": .string(id), "title": .string("Task \(id)"), "assigned_agent_persona": .string(who),
             "authorized_agent_archetypes": .array(archetypes.map { .string($0) }), "max_retries": JSONValue(retries),
             "dependencies": .array(deps.map { .string($0) }), "inputs": [], "outputs": [], "execution_checklist": [],
             "criticality": "MEDIUM", "notes": ""]
        }
        return ["payload": ["execution_plan_id": .string(id), "plan_type": "CONSTRUCT",
                            "plan_definition": ["goal": "conformance", "scope_summary": "", "exclusions_summary": ""],
                            "tasks": [task("T1", "WORKER"), task("T2", "WORKER", deps: ["T1"]), task("T3", "WORKER", deps: ["T2"]),
                                      task("T4", "WORKER2", retries: 1), task("T5", "WORKER2", archetypes: ["TESTER"])]]]
    }

    /// Creates the plan's journal (genesis signed by SUPERVISOR) on `store`.
    public static func make(_ store: any JournalStore, planID: String = "EP-CONF", g: Int = 1) async throws -> ConformanceFixture {
        var keys: [String: SigningKey] = [:]
        var personas: [Persona] = []
        for (n, (id, role, arch)) in [("SUPERVISOR", PersonaRole.supervisor, "SUPERVISOR"), ("WORKER", .worker, "IMPLEMENTER"),
                                      ("WORKER2", .worker, "IMPLEMENTER"), ("TESTER_BOT", .worker, "TESTER")].enumerated() {
            let k = try SigningKey(persona: id, seed: seed(UInt8(n + 1)))
            keys[id] = k
            personas.append(Persona(id: id, role: role, archetype: arch, publicKey: k.publicKey))
        }
        let registry = PersonaRegistry(personas: personas)
        let doc = PlanDocument(json: planJSON(id: planID)).locked()
        let spec = try doc.spec(personas: registry)
        let ref = JournalRef(planID: planID, g: g)
        let genesis = try Genesis.make(plan: doc, spec: spec, gPlan: g, g: g + 1, registry: registry, locker: "SUPERVISOR",
                                       signer: keys["SUPERVISOR"], ts: Timestamp.string(now()))
        try await store.createJournal(ref, genesis: genesis.line)
        return ConformanceFixture(store: store, ref: ref, doc: doc, spec: spec, registry: registry, keys: keys)
    }

    /// A book on the fixture's journal (fixed clock), on `store` if given (a wrapper of the same data).
    public func book(interval: Int = 64, on other: (any JournalStore)? = nil) async throws -> StatusBook {
        try await StatusBook.open(store: other ?? store, ref: ref, plan: spec,
                                  options: .init(snapshotInterval: interval, now: Self.now, currentG: { ref.g + 1 }))
    }

    @discardableResult
    public func submit(_ book: StatusBook, _ type: EventType, _ task: String?, _ persona: String,
                       _ data: JSONObject = [:]) async throws -> Event {
        try await book.submit(EventRequest(type: type, task: task, persona: persona, data: data), signer: keys[persona])
    }

    /// Every line's bytes.
    public func lines() async throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        try await store.forEachLine(ref) { out.append($0.bytes) }
        return out
    }
}
