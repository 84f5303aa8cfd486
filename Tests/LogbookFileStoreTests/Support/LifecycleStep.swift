import LogbookCore
import Testing
import LogbookEngine
import LogbookFileStore

/// validate, freeze and archive as test steps: a workspace brought up to just before one, and
/// running it (shared by the crash sweep and the fault sweep of the lifecycle).
enum LifecycleStep: String, CaseIterable, CustomTestStringConvertible {
    case validate, freeze, archive
    var testDescription: String { rawValue }

    /// EP-TEST with every task finished (T5 waived), brought up to just before this step.
    func prepared(_ name: String) async throws -> (Workspace, PlanFile) {
        let (ws, file) = try await TestSupport.lockedWorkspace(name)
        let book = try await ws.engine.book(file)
        func submit(_ type: EventType, _ task: String?, _ persona: String, _ data: JSONObject = [:]) async throws {
            _ = try await book.submit(EventRequest(type: type, task: task, persona: persona, data: data), signer: try await ws.engine.signingKey(for: persona))
        }
        for t in ["T1", "T2", "T3"] {
            try await submit(.started, t, "WORKER")
            try await submit(.done, t, "WORKER")
        }
        try await submit(.started, "T4", "WORKER2")
        try await submit(.done, "T4", "WORKER2")
        try await submit(.waived, "T5", "SUPERVISOR", ["reason": "not needed"])
        let sup = try await ws.engine.signingKey(for: "SUPERVISOR")
        if self != .validate { _ = try await ws.engine.validate(file, persona: "SUPERVISOR", signer: sup) }
        if self == .archive { _ = try await ws.engine.freeze(file, persona: "SUPERVISOR", signer: sup) }
        return (ws, file)
    }

    /// Runs this step as the supervisor.
    func run(_ ws: Workspace, _ file: PlanFile) async throws {
        let sup = try await ws.engine.signingKey(for: "SUPERVISOR")
        switch self {
        case .validate: _ = try await ws.engine.validate(file, persona: "SUPERVISOR", signer: sup)
        case .freeze: _ = try await ws.engine.freeze(file, persona: "SUPERVISOR", signer: sup)
        case .archive: _ = try await ws.engine.archive(file, persona: "SUPERVISOR", signer: sup)
        }
    }
}
