import Foundation
import LogbookCore

extension LogbookEngine {
    /// Every plan, by g.
    public func listPlans() async throws -> [PlanFile] {
        try await catalog.listPlans()
    }

    /// The plan created at `g`; `.notFound` naming it when there is none.
    public func planFile(g: Int) async throws -> PlanFile {
        guard let p = try await catalog.loadPlan(g: g) else {
            throw LogbookError(.notFound, "no plan exec_plan_\(g) in this workspace")
        }
        return p
    }

    /// The plan named by `selector` (plan id, `exec_plan_<g>`, or g), or the one the state points
    /// at; when it points at none (the last plan was archived), the most recently locked plan.
    public func plan(_ selector: String?) async throws -> PlanFile {
        guard let selector else {
            if let g = try await catalog.loadState().currentPlanG { return try await planFile(g: g) }
            if let last = try await catalog.listPlans().last(where: { $0.document.isLocked }) { return last }
            throw LogbookError(.notFound, "state.txt points at no live status and no plan is locked; name a plan with --plan ID")
        }
        if let g = Int(selector) ?? (selector.hasPrefix("exec_plan_") ? Int(selector.dropFirst(10)) : nil),
           let p = try await catalog.loadPlan(g: g) {
            return p
        }
        try Identifier.check(selector, "plan id")
        // Where this engine last found the id: one plan file read instead of all of them (a
        // server resolves the plan of every request; a workspace accumulates plans). The file is
        // read again each time, so an edit is still seen; a stale entry falls through to the list.
        if let g = planIndex.withLock({ $0[selector] }), let p = try await catalog.loadPlan(g: g), p.id == selector { return p }
        let all = try await catalog.listPlans()
        let index = Dictionary(all.map { ($0.id, $0.g) }, uniquingKeysWith: { first, _ in first })  // as first(where:) finds it
        planIndex.withLock { $0 = index }
        if let p = all.first(where: { $0.id == selector }) { return p }
        throw LogbookError(.notFound, "no plan \(selector) in this workspace", plan: selector)
    }

    /// Imports a plan file (HAIOS exec_plan v5.4) as a DRAFT.
    ///
    /// - Parameter replace: replace a DRAFT that has the same id (without it, that is refused).
    /// - Returns: the plan as stored (`exec_plan_<g>.txt`).
    /// - Throws: `.badInput` with line and column for bad JSON, `.invalidPlan` with JSON paths
    ///   (also for live state, which belongs in a status journal: `logbook migrate`),
    ///   `.alreadyExists` naming the existing plan and its file, `.locked` if a locked plan has
    ///   the id (even with `replace`). Nothing is written on error. A file carrying lock flags
    ///   (ratified or earlier) is imported as a DRAFT, every flag false.
    public func importPlan(bytes: [UInt8], name: String, replace: Bool = false) async throws -> PlanFile {
        let parsed = try PlanDocument(bytes: bytes, name: name)
        try parsed.refuseLiveState(name: name)
        let doc = try parsed.draft()  // ratified v5.4 shape, lock flags false
        let spec = try doc.spec(personas: try await catalog.loadPersonas())
        return try await catalog.exclusive {
            let existing = try await catalog.listPlans().first { $0.id == spec.id }
            if let existing, existing.document.isLocked {
                throw LogbookError(.locked, "plan \(spec.id) is locked (\(existing.name)) and cannot change; import it under a new execution_plan_id", plan: spec.id)
            }
            if let existing, !replace {
                throw LogbookError(.alreadyExists, "plan \(spec.id) already exists as a DRAFT in \(existing.name) (v_file_instance \(existing.document.header["v_file_instance"]?.intValue ?? 1), \(existing.document.payload["tasks"]?.arrayValue?.count ?? 0) tasks); nothing written. Pass --replace to replace it, or use another execution_plan_id", plan: spec.id, path: existing.name)
            }
            return try await storeDraft(doc, id: spec.id, existing: existing)
        }
    }

    /// Writes a DRAFT plan: `exec_plan_<g>.txt` of `existing` (its version advanced) or of a new g.
    /// The caller holds the catalog's exclusion.
    func storeDraft(_ document: PlanDocument, id: String, existing: PlanFile?) async throws -> PlanFile {
        var doc = document
        let g: Int
        var version = 1
        if let existing {
            g = existing.g
            version = (existing.document.header["v_file_instance"]?.intValue ?? 1) + 1
        } else {
            g = try await catalog.updateState { $0["g"] = .number(Double(($0["g"]?.intValue ?? 0) + 1)) }.g
        }
        var header = doc.header
        header["file_id"] = .string("exec_plan_\(g)")
        header["entity_type"] = .string(PlanDocument.entityType)
        header["schema_definition_id_ref"] = .string(PlanDocument.schemaID)
        header["g_file_created"] = existing?.document.header["g_file_created"] ?? .number(Double(g))
        header["g_file_last_modified"] = .number(Double(try await catalog.loadState().g))
        header["v_file_instance"] = .number(Double(version))
        doc.setHeader(header)
        return try await catalog.storeDraft(doc, g: g, create: existing == nil)
    }

    /// Locks (approves) a plan: validation, lock flags, digest, genesis event, 0 % snapshot and
    /// g advanced, installed as one step (``Catalog/install(_:)``). The state is pointed at the
    /// new status when no status is live (none, or the one it points at is ARCHIVED), or with
    /// `makeCurrent`; a live status keeps the pointer, so agents working on it without `--plan`
    /// stay on it.
    ///
    /// A lock interrupted by a crash is completed by running it again.
    ///
    /// - Throws: `.invalidPlan` (path `payload.tasks`) for a plan without tasks.
    public func lockPlan(_ selector: String?, persona: String, signer: SigningKey?, makeCurrent: Bool = false) async throws -> (PlanFile, Event) {
        try await catalog.exclusive {
            let file = try await plan(selector)
            let registry = try await catalog.loadPersonas()
            let draft = file.document
            let locked = draft.isLocked ? draft : draft.locked()
            let spec = try locked.spec(personas: registry)
            guard !spec.tasks.isEmpty else {
                throw LogbookError(.invalidPlan, "no tasks: a plan without tasks cannot be locked; add one with `logbook plan add-task \(spec.id) --task-id T1 --title … --assignee PERSONA`",
                                   plan: spec.id, path: "payload.tasks")
            }
            let ref = file.journalRef
            var genesis: Event
            if try await journals.journalExists(ref) {
                // Already locked, or a lock interrupted after the journal was created.
                guard let first = try await journals.read(ref, from: 0, limit: 1).first,
                      let e = try? Event(line: first.bytes), e.seq == 0 else {
                    throw LogbookError(.corrupt, "the status journal of \(spec.id) has no readable genesis", plan: spec.id)
                }
                guard e.prev == locked.digest else {
                    throw LogbookError(.corrupt, "a status journal for \(spec.id) exists but is bound to another plan digest (\(e.prev))", plan: spec.id)
                }
                if draft.isLocked {
                    throw LogbookError(.locked, "plan \(spec.id) is already locked (digest \(e.prev))", plan: spec.id)
                }
                genesis = e
            } else {
                // Build (and so authorise) the genesis before anything is written: a refused lock writes nothing.
                let g = try await catalog.loadState().g + 1
                genesis = try Genesis.make(plan: locked, spec: spec, gPlan: file.g, g: g, registry: registry, locker: persona,
                                           signer: signer, ts: timestamp())
            }
            var doc = locked
            var header = doc.header
            header["g_file_last_modified"] = .number(Double(genesis.g))
            header["v_file_instance"] = .number(Double((header["v_file_instance"]?.intValue ?? 1) + (draft.isLocked ? 0 : 1)))
            header["locked_by_persona_id"] = .string(persona)
            header["g_locked"] = .number(Double(genesis.g))
            header["plan_digest"] = .string(locked.digest.description)
            doc.setHeader(header)
            var point = makeCurrent
            if !point { point = try await !livePointer(ignoring: ref.statusID) }
            let snapshot = try firstSnapshot(spec: spec, genesis: genesis, sealer: signer)
            try await catalog.install(PlanInstall(plan: doc, g: file.g, genesis: genesis.line, snapshot: snapshot, gAfter: genesis.g,
                                                  point: point, replacesDraft: true))
            books.forget(ref)
            return (PlanFile(g: file.g, path: file.path, document: doc), genesis)
        }
    }

    /// The snapshot of a journal holding only `genesis`, sealed by `sealer` when the genesis
    /// trusts its key.
    func firstSnapshot(spec: PlanSpec, genesis: Event, sealer: SigningKey?) throws -> [UInt8] {
        var state = StatusState(plan: spec)
        try state.apply(genesis)
        // MERGE(storage): the snapshot's journal section loses its cursor.
        let doc = state.snapshot(cursor: Int64(genesis.line.count))
        guard let sealer, genesis.data["personas"]?[sealer.persona]?["key_id"]?.stringValue == sealer.publicKey.keyID else {
            return PrettyJSON.bytes(doc)
        }
        return PrettyJSON.bytes(SnapshotSeal.seal(doc, genesisHash: genesis.hash, with: sealer))
    }
}
