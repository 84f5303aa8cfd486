import LogbookClient
import LogbookCore
import LogbookEngine

/// Where `task list`, `task show`, `stale`, `blocked` and `next` read a plan: the workspace's book, or a server.
struct TaskSource {
    let planID: String
    let spec: PlanSpec
    let document: PlanDocument
    let state: () async throws -> StatusState

    static func open(_ ws: WorkspaceOptions, _ plan: String?) async throws -> TaskSource {
        if let remote = try ws.remote() {
            let p = try await RemotePlan.open(remote, try PlanArguments.one(nil, plan))
            return TaskSource(planID: p.id, spec: p.spec, document: p.document, state: { try await p.state() })
        }
        let w = try ws.open()
        let file = try await w.plan(plan)
        let book = try await w.book(file)
        return TaskSource(planID: file.id, spec: book.plan, document: file.document, state: { try await book.state() })
    }
}
