import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import LogbookStoreConformance

/// Paths and helpers shared by the file-store and CLI tests.
enum TestSupport {
    /// The built `logbook` binary: beside the test bundle, or $LOGBOOK_BIN.
    static var binary: String { Spawn.logbookBinary }

    /// A fresh empty folder under the system temp folder.
    static func tempDirectory(_ name: String = "lb") -> String {
        let path = NSTemporaryDirectory() + "/logbook-test-\(name)-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `logbook` with `args` and waits.
    @discardableResult
    static func logbook(_ args: [String], env: [String: String] = [:]) throws -> Run {
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "LOGBOOK_WORKSPACE")
        environment.removeValue(forKey: "LOGBOOK_PERSONA")
        environment.removeValue(forKey: "LOGBOOK_KEY_FILE")
        environment.removeValue(forKey: "TRACEPARENT")
        for (k, v) in env { environment[k] = v }
        let r = try Spawn.run(binary, args, environment: environment)
        return Run(status: r.status, stdout: String(decoding: r.stdout, as: UTF8.self), stderr: String(decoding: r.stderr, as: UTF8.self))
    }

    /// A small plan: T1 → T2 → T3 for WORKER, T4 for WORKER2 (max_retries 1), T5 any TESTER.
    static func planJSON(id: String = "EP-TEST", worker: String = "WORKER", worker2: String = "WORKER2") -> JSONValue {
        func task(_ id: String, _ who: String, deps: [String] = [], retries: Int = 0, archetypes: [String] = []) -> JSONValue {
            ["task_id": .string(id), "title": .string("Task \(id)"), "assigned_agent_persona": .string(who),
             "authorized_agent_archetypes": .array(archetypes.map { .string($0) }), "max_retries": JSONValue(retries),
             "dependencies": .array(deps.map { .string($0) }), "inputs": [], "outputs": [], "execution_checklist": [],
             "criticality": "MEDIUM", "notes": ""]
        }
        return ["payload": ["execution_plan_id": .string(id), "plan_type": "CONSTRUCT",
                            "plan_definition": ["goal": "test", "scope_summary": "", "exclusions_summary": ""],
                            "tasks": [task("T1", worker), task("T2", worker, deps: ["T1"]), task("T3", worker, deps: ["T2"]),
                                      task("T4", worker2, retries: 1), task("T5", worker2, archetypes: ["TESTER"])]]]
    }

    /// A workspace with SUPERVISOR, WORKER, WORKER2 (and TESTER_BOT of archetype TESTER) and a
    /// locked plan EP-TEST.
    static func lockedWorkspace(_ name: String = "ws") async throws -> (Workspace, PlanFile) {
        let ws = try Workspace.create(at: tempDirectory(name))
        try await ws.engine.addPersona("SUPERVISOR", role: .supervisor)
        try await ws.engine.addPersona("WORKER", role: .worker, archetype: "IMPLEMENTER")
        try await ws.engine.addPersona("WORKER2", role: .worker, archetype: "IMPLEMENTER")
        try await ws.engine.addPersona("TESTER_BOT", role: .worker, archetype: "TESTER")
        _ = try await ws.engine.importPlan(bytes: CanonicalJSON.bytes(planJSON()), name: "plan.json")
        let (file, _) = try await ws.engine.lockPlan("EP-TEST", persona: "SUPERVISOR", signer: try await ws.engine.signingKey(for: "SUPERVISOR"))
        return (ws, file)
    }

    /// A persona's private key read straight from `keys/<persona>.key` (for synchronous test
    /// code; workflows get keys from the engine's signer source).
    static func key(_ ws: Workspace, _ persona: String) throws -> SigningKey {
        try SigningKey(persona: persona, fileText: String(decoding: bytes(ws.keyPath(persona)), as: UTF8.self))
    }

    /// Migrates the legacy plan file at `path` through the engine, as `logbook migrate` does.
    static func migrate(_ ws: Workspace, file path: String, options: LogbookEngine.MigrateOptions) async throws -> MigrationOutcome {
        try await ws.engine.migrate(bytes: bytes(path), source: (path as NSString).lastPathComponent, options: options)
    }

    /// personas.json read straight from the folder (for synchronous test code).
    static func personas(_ ws: Workspace) throws -> PersonaRegistry {
        try PersonaRegistry(json: JSONParser.parse(bytes(ws.personasPath)))
    }

    static func bytes(_ path: String) -> [UInt8] {
        Array(FileManager.default.contents(atPath: path) ?? Data())
    }
}
