import Foundation
import LogbookCore

/// DRAFT edits and the plan state.txt points at (SPEC §2, §3).
///
/// Every DRAFT edit is a read-modify-write of `exec_plan_<g>.txt` under the workspace lock: the
/// edit is applied to the file as it is when the lock is held (so concurrent edits all land, none
/// is lost), and, when the caller says which version it read (`v_file_instance`), refused if
/// the file changed since.
extension LogbookEngine {
    /// Applies `change` to a DRAFT plan's payload under the workspace lock and stores the result
    /// with its `v_file_instance` advanced.
    ///
    /// - Parameter expectedVersion: the `v_file_instance` the caller's edit is based on; refused
    ///   (`.conflict`) if the file has another. Nil: apply to whatever version is current.
    /// - Throws: `.locked` for a locked plan, `.conflict`, `.invalidPlan` if the result is not a
    ///   valid plan; nothing is written then.
    @discardableResult
    public func editDraft(_ selector: String, expectedVersion: Int? = nil,
                          _ change: @Sendable (_ payload: inout JSONObject, _ file: PlanFile) throws -> Void) async throws -> PlanFile {
        try await catalog.exclusive {
            let file = try await plan(selector)
            guard !file.document.isLocked else {
                throw LogbookError(.locked, "plan \(file.id) is locked (\(file.name)) and cannot change", plan: file.id)
            }
            let version = file.document.header["v_file_instance"]?.intValue ?? 1
            if let expectedVersion, expectedVersion != version {
                throw LogbookError(.conflict, "plan \(file.id) changed: \(file.name) is at v_file_instance \(version), the edit expected \(expectedVersion); nothing written",
                                   plan: file.id, rule: "v_file_instance")
            }
            var payload = file.document.payload
            try change(&payload, file)
            var root = file.document.json.objectValue ?? JSONObject()
            root["payload"] = .object(payload)
            let doc = try PlanDocument(json: .object(root)).draft()  // ratified v5.4 shape, lock flags false
            guard doc.planID == file.id else {
                throw LogbookError(.badInput, "a DRAFT edit cannot change the plan id (\(file.id))", plan: file.id)
            }
            try doc.refuseLiveState(name: file.name)
            _ = try doc.spec(personas: try await catalog.loadPersonas())
            return try await storeDraft(doc, id: file.id, existing: file)
        }
    }

    /// Appends a task to a DRAFT plan (see ``editDraft(_:expectedVersion:_:)``).
    ///
    /// - Throws: `.alreadyExists` if the plan has a task with that id.
    @discardableResult
    public func addTask(_ selector: String, task: JSONObject, expectedVersion: Int? = nil) async throws -> PlanFile {
        try await editDraft(selector, expectedVersion: expectedVersion) { payload, file in
            var tasks = payload["tasks"]?.arrayValue ?? []
            let id = task["task_id"]?.stringValue ?? ""
            if let i = tasks.firstIndex(where: { $0["task_id"]?.stringValue == id }) {
                throw LogbookError(.alreadyExists, "plan \(file.id) already has task \(id) (payload.tasks[\(i)]); nothing written", plan: file.id, task: id)
            }
            tasks.append(.object(task))
            payload["tasks"] = .array(tasks)
        }
    }

    /// Whether state.txt points at a status that is live: its journal exists and it is not
    /// ARCHIVED (a status that cannot be read counts as live: the pointer is not moved off it).
    func livePointer(ignoring: String? = nil) async throws -> Bool {
        let state = try await catalog.loadState()
        guard let id = state.currentStatusID, id != ignoring, let g = state.currentPlanG,
              let found = try? await catalog.loadPlan(g: g), let file = Optional(found) else { return false }
        guard file.document.isLocked,
              (try? await journals.journalExists(file.journalRef)) == true else { return false }
        guard let life = try? await book(file).state().lifecycle else { return true }
        return life != .archived
    }

    /// What ``usePlan(_:)`` did.
    public struct PlanUse: Sendable {
        public var plan: PlanFile
        public var lifecycle: StatusState.Lifecycle
        /// `exec_status_<g>` state.txt pointed at before (nil: none).
        public var previous: String?
        public var changed: Bool { previous != plan.journalRef.statusID }
    }

    /// Points state.txt at a locked plan's status (`logbook plan use`), under the workspace lock.
    ///
    /// - Throws: `.notLocked` for a DRAFT (or a plan without a status journal).
    public func usePlan(_ selector: String) async throws -> PlanUse {
        try await catalog.exclusive {
            let file = try await plan(selector)
            guard file.document.isLocked, try await journals.journalExists(file.journalRef) else {
                throw LogbookError(.notLocked, "plan \(file.id) is a DRAFT (\(file.name)); lock it first (`logbook plan lock \(file.id) --persona SUPERVISOR`)", plan: file.id)
            }
            let lifecycle = try await book(file).state().lifecycle
            let before = try await catalog.loadState()
            if before.currentStatusID != file.journalRef.statusID {
                try await catalog.updateState(expectedVersion: before.version) { WorkspaceState.point(&$0, statusID: file.journalRef.statusID, planID: file.id) }
            }
            return PlanUse(plan: file, lifecycle: lifecycle, previous: before.currentStatusID)
        }
    }

    /// Every plan with its lifecycle, and which one state.txt points at.
    public func planSummaries() async throws -> [PlanSummary] {
        let current = try await catalog.loadState().currentPlanG
        var out: [PlanSummary] = []
        for f in try await catalog.listPlans() {
            var s = PlanSummary(file: f, lifecycle: "DRAFT", current: f.g == current)
            if f.document.isLocked {
                do {
                    let state = try await book(f).state()
                    s.lifecycle = state.lifecycle.rawValue
                    s.completion = state.completion
                    s.head = state.head.map { (state.seq, $0) }
                    let view = SupervisorView(state: state, now: options.now())
                    s.taskCounts = view.taskCounts
                    s.blockers = view.blocked().count
                    s.stale = view.staleCount
                    s.lastActivity = state.lastTS
                } catch {
                    s.lifecycle = "UNREADABLE"
                    s.error = (error as? LogbookError)?.description ?? "\(error)"
                }
            }
            out.append(s)
        }
        return out
    }
}
