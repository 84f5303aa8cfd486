import Foundation
import LogbookCore
import LogbookEngine

/// A plan, personas and keys the catalog and artifact checks install and store; built from
/// nothing but the core, so every backend gets the same bytes.
public struct CatalogFixture: Sendable {
    public let supervisor: SigningKey
    public let worker: SigningKey
    public let registry: PersonaRegistry

    public init() {
        supervisor = SigningKey(generatingFor: "SUPERVISOR")
        worker = SigningKey(generatingFor: "WORKER")
        registry = PersonaRegistry(personas: [
            Persona(id: "SUPERVISOR", role: .supervisor, archetype: "SUPERVISOR", publicKey: supervisor.publicKey),
            Persona(id: "WORKER", role: .worker, archetype: "IMPLEMENTER", publicKey: worker.publicKey),
        ])
    }

    /// A DRAFT plan `id` with two tasks for WORKER.
    public func draft(_ id: String, goal: String = "conformance") throws -> PlanDocument {
        func task(_ t: String, deps: [String]) -> JSONValue {
            ["task_id": .string(t), "title": .string("Task \(t)"), "assigned_agent_persona": "WORKER",
             "authorized_agent_archetypes": [], "max_retries": 0, "dependencies": .array(deps.map { .string($0) }),
             "inputs": [], "outputs": [], "execution_checklist": [], "criticality": "MEDIUM", "notes": ""]
        }
        let json: JSONValue = ["payload": ["execution_plan_id": .string(id), "plan_type": "CONSTRUCT",
                                           "plan_definition": ["goal": .string(goal), "scope_summary": "", "exclusions_summary": ""],
                                           "tasks": [task("T1", deps: []), task("T2", deps: ["T1"])]]]
        return try PlanDocument(json: json).draft()
    }

    /// What lock would install for `draft` at `g`: the locked document, a genesis signed by
    /// SUPERVISOR at `g + 1`, and a snapshot standing for the state after it.
    public func install(_ draft: PlanDocument, g: Int, point: Bool = true, replacesDraft: Bool = true,
                        ts: String = "2026-01-01T00:00:00.000Z") throws -> PlanInstall {
        let locked = draft.locked()
        let spec = try locked.spec(personas: registry)
        let gGenesis = g + 1
        let genesis = try Genesis.make(plan: locked, spec: spec, gPlan: g, g: gGenesis, registry: registry, locker: "SUPERVISOR",
                                       signer: supervisor, ts: ts)
        let snapshot = Array("{\"conformance_snapshot\":\"\(spec.id)\",\"seq\":0}\n".utf8)
        return PlanInstall(plan: locked, g: g, genesis: genesis.line, snapshot: snapshot, gAfter: gGenesis, point: point,
                           replacesDraft: replacesDraft)
    }
}
