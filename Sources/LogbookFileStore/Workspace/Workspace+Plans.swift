#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LogbookCore
import LogbookEngine

extension Workspace {
    /// Every `exec_plan_<g>.txt`, by g.
    public func listPlans() throws -> [PlanFile] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        var out: [PlanFile] = []
        for n in names where n.hasPrefix("exec_plan_") && n.hasSuffix(".txt") {
            guard let g = Int(n.dropFirst("exec_plan_".count).dropLast(4)) else { continue }
            out.append(try planFile(g: g))
        }
        return out.sorted { $0.g < $1.g }
    }

    public func planFile(g: Int) throws -> PlanFile {
        let path = planPath(g: g)
        let doc = try PlanDocument(bytes: readFile(path), name: fileName(path))
        return PlanFile(g: g, path: path, document: doc)
    }

    /// The plan named by `selector` (plan id, `exec_plan_<g>`, or g), or the one state.txt points at;
    /// when it points at none (the last plan was archived), the most recently locked plan.
    public func plan(_ selector: String?) throws -> PlanFile {
        guard let selector else {
            if let g = try readState().currentPlanG { return try planFile(g: g) }
            if let last = try listPlans().last(where: { $0.document.isLocked }) { return last }
            throw LogbookError(.notFound, "state.txt points at no live status and no plan is locked; name a plan with --plan ID")
        }
        if let g = Int(selector) ?? (selector.hasPrefix("exec_plan_") ? Int(selector.dropFirst(10)) : nil),
           access(planPath(g: g), F_OK) == 0 {
            return try planFile(g: g)
        }
        try Identifier.check(selector, "plan id")
        if let p = try listPlans().first(where: { $0.id == selector }) { return p }
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
        let spec = try doc.spec(personas: try personas())
        return try await withWorkspaceLock {
            let existing = try listPlans().first { $0.id == spec.id }
            if let existing, existing.document.isLocked {
                throw LogbookError(.locked, "plan \(spec.id) is locked (exec_plan_\(existing.g).txt) and cannot change; import it under a new execution_plan_id", plan: spec.id)
            }
            if let existing, !replace {
                throw LogbookError(.alreadyExists, "plan \(spec.id) already exists as a DRAFT in \(fileName(existing.path)) (v_file_instance \(existing.document.header["v_file_instance"]?.intValue ?? 1), \(existing.document.payload["tasks"]?.arrayValue?.count ?? 0) tasks); nothing written. Pass --replace to replace it, or use another execution_plan_id", plan: spec.id, path: fileName(existing.path))
            }
            return try storeDraft(doc, id: spec.id, existing: existing)
        }
    }

    /// Writes a DRAFT plan: `exec_plan_<g>.txt` of `existing` (its version advanced) or of a new g.
    /// The caller holds the workspace lock.
    func storeDraft(_ document: PlanDocument, id: String, existing: PlanFile?) throws -> PlanFile {
        var doc = document
        let g: Int
        var version = 1
        if let existing {
            g = existing.g
            version = (existing.document.header["v_file_instance"]?.intValue ?? 1) + 1
        } else {
            g = try updateState { $0["g"] = .number(Double(($0["g"]?.intValue ?? 0) + 1)) }.g
        }
        var header = doc.header
        header["file_id"] = .string("exec_plan_\(g)")
        header["entity_type"] = .string(PlanDocument.entityType)
        header["schema_definition_id_ref"] = .string(PlanDocument.schemaID)
        header["g_file_created"] = existing?.document.header["g_file_created"] ?? .number(Double(g))
        header["g_file_last_modified"] = .number(Double(try readState().g))
        header["v_file_instance"] = .number(Double(version))
        doc.setHeader(header)
        try AtomicFile(ops: ops).write(planPath(g: g), PrettyJSON.bytes(doc.json))
        return PlanFile(g: g, path: planPath(g: g), document: doc)
    }

    /// Locks (approves) a plan: validation, lock flags, digest, genesis event, 0 % snapshot and
    /// g advanced, as one step for the user. state.txt is pointed at the new status when no
    /// status is live (none, or the one it points at is ARCHIVED), or with `makeCurrent`; a live
    /// status keeps the pointer, so agents working on it without `--plan` stay on it.
    ///
    /// A lock interrupted by a crash is completed by running it again.
    ///
    /// - Throws: `.invalidPlan` (path `payload.tasks`) for a plan without tasks.
    public func lockPlan(_ selector: String?, persona: String, signer: SigningKey?, makeCurrent: Bool = false) async throws -> (PlanFile, Event) {
        try await withWorkspaceLock {
            let file = try plan(selector)
            let registry = try personas()
            let draft = file.document
            let locked = draft.isLocked ? draft : draft.locked()
            let spec = try locked.spec(personas: registry)
            guard !spec.tasks.isEmpty else {
                throw LogbookError(.invalidPlan, "no tasks: a plan without tasks cannot be locked; add one with `logbook plan add-task \(spec.id) --task-id T1 --title … --assignee PERSONA`",
                                   plan: spec.id, path: "payload.tasks")
            }
            let ref = file.journalRef
            var genesis: Event
            if try await store.journalExists(ref) {
                // Already locked, or a lock interrupted after the journal was created.
                guard let first = try await store.read(ref, from: 0, limit: 1).first,
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
                // Build (and so authorise) the genesis before advancing g: a refused lock writes nothing.
                let g = try readState().g + 1
                genesis = try Genesis.make(plan: locked, spec: spec, gPlan: file.g, g: g, registry: registry, locker: persona,
                                           signer: signer, ts: Timestamp.string(Date()))
                try updateState { $0["g"] = .number(Double(g)) }
                try await store.createJournal(ref, genesis: genesis.line)
            }
            let book = try await StatusBook.open(store: store, ref: ref, plan: spec)
            try await book.writeSnapshot(sealedBy: signer)
            var doc = locked
            var header = doc.header
            header["g_file_last_modified"] = .number(Double(genesis.g))
            header["v_file_instance"] = .number(Double((header["v_file_instance"]?.intValue ?? 1) + (draft.isLocked ? 0 : 1)))
            header["locked_by_persona_id"] = .string(persona)
            header["g_locked"] = .number(Double(genesis.g))
            header["plan_digest"] = .string(locked.digest.description)
            doc.setHeader(header)
            // state.txt before the plan file: a crash between the two leaves a DRAFT plan with a
            // journal, which running the lock again completes; the other order would leave a
            // locked plan that state.txt does not point at, and a second lock is refused.
            var point = makeCurrent
            if !point { point = try await !livePointer(ignoring: ref.statusID) }
            try updateState { p in
                p["g"] = .number(Double(max(p["g"]?.intValue ?? 0, genesis.g)))
                guard point else { return }
                WorkspaceState.point(&p, statusID: ref.statusID, planID: spec.id)
            }
            try AtomicFile(ops: ops).write(file.path, PrettyJSON.bytes(doc.json))
            return (PlanFile(g: file.g, path: file.path, document: doc), genesis)
        }
    }
}
