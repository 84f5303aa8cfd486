import Foundation
import LogbookCore
import LogbookEngine

extension Workspace {
    public func readState() throws -> WorkspaceState {
        try WorkspaceState(bytes: readFile(statePath))
    }

    /// Changes state.txt atomically under the workspace lock, refusing if its version is not
    /// `expectedVersion` (when given): two state writers cannot both win.
    @discardableResult
    func updateState(expectedVersion: Int? = nil, _ change: (inout JSONObject) -> Void) throws -> WorkspaceState {
        let current = try readState()
        if let expectedVersion, current.version != expectedVersion {
            throw LogbookError(.conflict, "state.txt changed (v_file_instance \(current.version), expected \(expectedVersion))")
        }
        var next = current.updated(change)
        // cp_id follows the pointer: a writer that set only current_exec_status_id_ref (or a file
        // of an earlier version) gets the plan id of exec_plan_<g>.txt.
        if let g = next.currentPlanG, next.currentPlanID == nil || next.currentStatusID != current.currentStatusID,
           let id = try? planFile(g: g).id, next.currentPlanID != id {
            next = WorkspaceState(json: next.json.replacingPayload { $0["cp_id"] = .string(id) })
        } else if next.currentStatusID == nil, next.currentPlanID != nil {
            next = WorkspaceState(json: next.json.replacingPayload { $0["cp_id"] = .null })
        }
        try AtomicFile(ops: ops).write(statePath, PrettyJSON.bytes(next.json))
        return next
    }
}

