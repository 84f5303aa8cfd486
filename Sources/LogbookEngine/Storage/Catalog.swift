import LogbookCore

/// The workspace's catalog: its state (g, the pointer to the live status, the phase), its
/// personas, and its plans. Files keep it in `state.txt`, `personas.json` and
/// `exec_plan_<g>.txt`; PostgreSQL in tables. The conformance suite (`LogbookStoreConformance`)
/// is its executable definition.
///
/// A catalog stores what it is given; the rules (who may lock, what a DRAFT edit may change)
/// are the engine's.
///
/// ```swift
/// let state = try await catalog.loadState()
/// try await catalog.storeState(state.updated { $0["g"] = 5 }, expected: state.version)
/// ```
public protocol Catalog: Sendable {
    /// The workspace state (HAIOS `state.txt`). `.notFound` when there is no workspace.
    func loadState() async throws -> WorkspaceState

    /// Replaces the state if its `v_file_instance` is still `expected` (compare-and-swap).
    ///
    /// - Throws: `.conflict` naming both versions when another writer got there first; nothing
    ///   is written then.
    func storeState(_ next: WorkspaceState, expected: Int) async throws

    /// The persona registry (trust roots). `.badInput` naming the JSON path when it is damaged.
    func loadPersonas() async throws -> PersonaRegistry

    /// The registry's stored bytes as they are (to name what is damaged when they do not parse).
    func loadPersonasDocument() async throws -> [UInt8]

    /// Replaces the persona registry.
    func storePersonas(_ registry: PersonaRegistry) async throws

    /// Every plan, by g.
    func listPlans() async throws -> [PlanFile]

    /// The plan created at `g`, or nil.
    func loadPlan(g: Int) async throws -> PlanFile?

    /// Writes a DRAFT plan document at `g` (`create`: only if there is none there yet, else
    /// `.alreadyExists`). Locked plans are installed with ``install(_:)``, never written here.
    func storeDraft(_ document: PlanDocument, g: Int, create: Bool) async throws -> PlanFile

    /// Installs a locked plan as one step: its status journal with the genesis line, the first
    /// snapshot, the plan document, and the state (g and, if asked, the pointer). One
    /// transaction where the backend has them; on files an order that running the same install
    /// again completes (docs/FORMAT.md §13). Lock and migrate both use it.
    ///
    /// Running it again with the same genesis completes an interrupted install; a journal that
    /// exists with another genesis is `.conflict`.
    func install(_ install: PlanInstall) async throws

    /// The workspace clock g as of now, cheaply: every event records it, so it is read once per
    /// commit, under the journal's exclusion (files: one `stat` of state.txt unless it changed).
    func currentG() throws -> Int

    /// Runs `body` excluding every other workspace-level act (g advances, plan and persona
    /// changes) in this process and any other.
    func exclusive<T>(_ body: () async throws -> T) async throws -> T
}

/// What ``Catalog/install(_:)`` writes.
public struct PlanInstall: Sendable {
    /// The locked plan document (lock flags set, digest and lock header fields filled in).
    public var plan: PlanDocument
    /// The g the plan lives at (`exec_plan_<g>`).
    public var g: Int
    /// The journal's first line (the genesis event, with its newline).
    public var genesis: [UInt8]
    /// The first snapshot (the state after the genesis), and its seq (0).
    public var snapshot: [UInt8]
    public var snapshotSeq: Int
    /// The workspace clock after the install: the state's g becomes at least this.
    public var gAfter: Int
    /// Point the state at this plan's status.
    public var point: Bool
    /// The plan replaces a DRAFT at the same g (lock), rather than being new (migrate): decides
    /// the order files write in (a DRAFT with a journal is what a rerun of lock completes; a new
    /// locked plan document is what a rerun of migrate resumes from).
    public var replacesDraft: Bool

    public init(plan: PlanDocument, g: Int, genesis: [UInt8], snapshot: [UInt8], snapshotSeq: Int = 0,
                gAfter: Int, point: Bool, replacesDraft: Bool) {
        self.plan = plan
        self.g = g
        self.genesis = genesis
        self.snapshot = snapshot
        self.snapshotSeq = snapshotSeq
        self.gAfter = gAfter
        self.point = point
        self.replacesDraft = replacesDraft
    }

    public var ref: JournalRef { JournalRef(planID: plan.planID ?? "exec_plan_\(g)", g: g) }
}

extension Catalog {
    /// Applies `change` to the current state and stores it with compare-and-swap; with
    /// `expectedVersion`, refuses (`.conflict`) unless the state is still at that version.
    ///
    /// `cp_id` follows the pointer: the plan id of the plan the pointer names.
    @discardableResult
    public func updateState(expectedVersion: Int? = nil, _ change: (inout JSONObject) -> Void) async throws -> WorkspaceState {
        let current = try await loadState()
        if let expectedVersion, current.version != expectedVersion {
            throw LogbookError(.conflict, "state.txt changed (v_file_instance \(current.version), expected \(expectedVersion))")
        }
        var next = current.updated(change)
        if let g = next.currentPlanG, next.currentPlanID == nil || next.currentStatusID != current.currentStatusID,
           let id = try? await loadPlan(g: g)?.id, next.currentPlanID != id {
            next = WorkspaceState(json: next.json.replacingPayload { $0["cp_id"] = .string(id) })
        } else if next.currentStatusID == nil, next.currentPlanID != nil {
            next = WorkspaceState(json: next.json.replacingPayload { $0["cp_id"] = .null })
        }
        try await storeState(next, expected: current.version)
        return next
    }
}
