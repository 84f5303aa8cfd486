import LogbookCore
import Synchronization

/// The in-memory ``Catalog`` (tests, embedding, the demo): the workspace state, personas and
/// plan documents behind one mutex. `storeState` is compare-and-swap on the state's version;
/// ``install(_:)`` checks everything first, creates the journal and snapshot in `journals`,
/// then changes g, the pointer and the plan document in one critical section, so no reader of
/// the catalog ever sees half an install.
///
/// ``exclusive(_:)`` is an ``AsyncMutex``: not reentrant (a nested call from the same task is
/// `.conflict`); `storeState` and `install` inside it do not take it again.
///
/// ```swift
/// let journals = MemoryJournalStore()
/// let catalog = MemoryCatalog(journals: journals)
/// ```
public final class MemoryCatalog: Catalog {
    struct Contents {
        var state: WorkspaceState
        var personas: PersonaRegistry
        var plans: [Int: PlanDocument] = [:]
    }

    let contents: Mutex<Contents>
    let journals: any JournalStore
    let mutex = AsyncMutex(name: "the workspace lock (memory)")

    /// A fresh workspace: the initial state (g 0) and no personas.
    public init(journals: any JournalStore, allowUnsigned: Bool = false) {
        self.journals = journals
        self.contents = Mutex(Contents(state: .initial(), personas: PersonaRegistry(personas: [], allowUnsigned: allowUnsigned)))
    }

    public func loadState() async throws -> WorkspaceState {
        contents.withLock { $0.state }
    }

    public func storeState(_ next: WorkspaceState, expected: Int) async throws {
        try contents.withLock { c in
            guard c.state.version == expected else {
                throw LogbookError(.conflict, "state.txt changed: it is at v_file_instance \(c.state.version), this write expected \(expected) (another writer got there first); nothing written",
                                   facts: ["actual_version": JSONValue(c.state.version), "expected_version": JSONValue(expected)])
            }
            c.state = next
        }
    }

    public func loadPersonas() async throws -> PersonaRegistry {
        contents.withLock { $0.personas }
    }

    public func storePersonas(_ registry: PersonaRegistry) async throws {
        contents.withLock { $0.personas = registry }
    }

    public func listPlans() async throws -> [PlanFile] {
        contents.withLock { c in c.plans.sorted { $0.key < $1.key }.map { Self.file($0.key, $0.value) } }
    }

    public func loadPlan(g: Int) async throws -> PlanFile? {
        contents.withLock { c in c.plans[g].map { Self.file(g, $0) } }
    }

    static func file(_ g: Int, _ doc: PlanDocument) -> PlanFile {
        PlanFile(g: g, path: "exec_plan_\(g).txt", document: doc)
    }

    public func storeDraft(_ document: PlanDocument, g: Int, create: Bool) async throws -> PlanFile {
        let name = "exec_plan_\(g).txt"
        if document.isLocked {
            throw LogbookError(.badInput, "\(name): a locked plan document is installed (lock, migrate), never stored as a DRAFT (nothing written)", plan: document.planID, path: name)
        }
        return try contents.withLock { c in
            if let existing = c.plans[g] {
                if create {
                    throw LogbookError(.alreadyExists, "\(name) already exists; a new DRAFT is never written over a plan (nothing written)", plan: document.planID, path: name)
                }
                if existing.isLocked {
                    let id = existing.planID ?? "exec_plan_\(g)"
                    throw LogbookError(.locked, "\(name) holds the locked plan \(id), which cannot change (nothing written)", plan: id, path: name)
                }
            }
            c.plans[g] = document
            return Self.file(g, document)
        }
    }

    public func currentG() throws -> Int {
        contents.withLock { $0.state.g }
    }

    public func exclusive<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await mutex.withLock(body)
    }

    /// Installs under the workspace lock (taken unless this task holds it). Checks, then the
    /// journal (kept if it exists with the same genesis) and the snapshot, then g, the pointer
    /// and the plan document at once.
    public func install(_ install: PlanInstall) async throws {
        if mutex.isHeldByCurrentTask { return try await installLocked(install) }
        try await mutex.withLock { try await installLocked(install) }
    }

    private func installLocked(_ i: PlanInstall) async throws {
        let ref = i.ref
        let name = "exec_plan_\(i.g).txt"
        guard i.plan.isLocked else {
            throw LogbookError(.badInput, "install needs the locked plan document; \(name) would be a DRAFT (nothing written)", plan: ref.planID, path: name)
        }
        guard i.genesis.last == 0x0A, !i.genesis.dropLast().contains(0x0A) else {
            throw LogbookError(.badInput, "the genesis must be one journal line ending in a newline (nothing written)", plan: ref.planID)
        }
        let genesisLine = Array(i.genesis.dropLast())
        let exists = try await journals.journalExists(ref)
        if exists { try await journals.requireGenesis(ref, genesisLine, name: name) }
        try contents.withLock { c in try Self.checkPlan(c.plans[i.g], i, name: name) }

        if !exists {
            do { try await journals.createJournal(ref, genesis: i.genesis) } catch let e as LogbookError where e.code == .alreadyExists {
                try await journals.requireGenesis(ref, genesisLine, name: name)
            }
        }
        try await journals.storeSnapshot(ref, i.snapshot, seq: i.snapshotSeq, SnapshotWrite(durable: true))
        try contents.withLock { c in
            try Self.checkPlan(c.plans[i.g], i, name: name)
            let s = c.state
            let point = i.point && (s.currentStatusID != ref.statusID || s.currentPlanID != ref.planID)
            if s.g < i.gAfter || point {
                c.state = s.updated { p in
                    if (p["g"]?.intValue ?? 0) < i.gAfter { p["g"] = JSONValue(i.gAfter) }
                    if point { WorkspaceState.point(&p, statusID: ref.statusID, planID: ref.planID) }
                }
            }
            c.plans[i.g] = i.plan
        }
    }


    /// The same rules as the file catalog: lock replaces the DRAFT of the same plan (or finds
    /// the same locked plan on a rerun); migrate needs no document, or the same locked plan.
    static func checkPlan(_ existing: PlanDocument?, _ i: PlanInstall, name: String) throws {
        let id = i.ref.planID
        let existingID = existing.map { $0.planID ?? "exec_plan_\(i.g)" }
        if i.replacesDraft {
            guard let existing, let existingID else {
                throw LogbookError(.notFound, "there is no DRAFT \(name) to lock; nothing written", plan: id, path: name)
            }
            guard existingID == id else {
                throw LogbookError(.conflict, "\(name) holds plan \(existingID), not \(id); nothing written", plan: id, path: name)
            }
            if existing.isLocked, existing.digest != i.plan.digest {
                throw LogbookError(.locked, "\(name) holds plan \(id) locked with digest \(existing.digest), not \(i.plan.digest); nothing written", plan: id, path: name)
            }
        } else if let existing, let existingID {
            guard existingID == id, existing.isLocked, existing.digest == i.plan.digest else {
                throw LogbookError(.alreadyExists, "\(name) already exists (plan \(existingID), \(existing.isLocked ? "locked with digest \(existing.digest)" : "a DRAFT")); a new locked plan is never written over it; nothing written",
                                   plan: id, path: name)
            }
        }
    }
}
