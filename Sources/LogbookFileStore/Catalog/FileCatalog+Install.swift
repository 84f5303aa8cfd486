#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LogbookCore
import LogbookEngine

extension FileCatalog {
    /// Installs a locked plan: every check first (nothing is written when one fails), then the
    /// files in an order that running the same install again completes after a crash at any
    /// point (docs/FORMAT.md §13):
    ///
    /// 1. `state.txt`'s g, to at least `gAfter` (a g is never handed out twice, whatever follows);
    /// 2. migrate (`!replacesDraft`): the new locked plan document, created, never clobbering;
    /// 3. the journal with the genesis line (if it exists, its first line must be this genesis:
    ///    the rerun continues; another genesis is `.conflict`);
    /// 4. the first snapshot, durably (never over one of a later seq);
    /// 5. the pointer, if `point` (``WorkspaceState/point(_:statusID:planID:)``);
    /// 6. lock (`replacesDraft`): the locked plan document, replacing the DRAFT, last.
    ///
    /// Why: for lock, a crash leaves a DRAFT with a journal, which a rerun of lock recognises
    /// (the journal's genesis) and completes; a locked plan written first would leave a locked
    /// plan the pointer may not name, and a second lock of a locked plan is refused. For
    /// migrate there is no DRAFT: a locked plan document without a journal is what a rerun finds
    /// and resumes from (its header records the source digest), so the document goes first.
    ///
    /// Runs under the workspace lock (taken here unless this task holds it already).
    public func install(_ install: PlanInstall) async throws {
        try await underWorkspaceLock { try await installLocked(install) }
    }

    private func installLocked(_ i: PlanInstall) async throws {
        let ref = i.ref
        let path = planPath(g: i.g)
        let name = Paths.fileName(of: path)
        guard i.plan.isLocked else {
            throw LogbookError(.badInput, "install needs the locked plan document; \(name) would be a DRAFT (nothing written)", plan: ref.planID, path: name)
        }
        guard i.genesis.last == 0x0A, !i.genesis.dropLast().contains(0x0A) else {
            throw LogbookError(.badInput, "the genesis must be one journal line ending in a newline (nothing written)", plan: ref.planID)
        }
        let genesisLine = Array(i.genesis.dropLast())
        let planBytes = PrettyJSON.bytes(i.plan.json)

        // Checks: the journal's genesis, and what exec_plan_<g>.txt holds now.
        var journalDone = try await journals.journalExists(ref)
        if journalDone { try await journals.requireGenesis(ref, genesisLine, name: name) }
        let existing = try readPlan(g: i.g)
        try checkPlan(existing, i, name: name)

        // 1. g.
        try await modifyState { p in
            if (p["g"]?.intValue ?? 0) < i.gAfter { p["g"] = JSONValue(i.gAfter) }
        }
        // 2. migrate: the new locked plan document.
        if !i.replacesDraft {
            if existing == nil {
                try atomic.create(path, planBytes)
            } else if try ops.readCatalogFile(path) != planBytes {
                try atomic.write(path, planBytes)
            }
        }
        // 3. The journal.
        if !journalDone {
            do {
                try await journals.createJournal(ref, genesis: i.genesis)
                journalDone = true
            } catch let e as LogbookError where e.code == .alreadyExists {
                try await journals.requireGenesis(ref, genesisLine, name: name)
            }
        }
        // 4. The first snapshot.
        try await journals.storeSnapshot(ref, i.snapshot, seq: i.snapshotSeq, SnapshotWrite(durable: true))
        // 5. The pointer.
        if i.point {
            try await modifyState { p in
                if (p["g"]?.intValue ?? 0) < i.gAfter { p["g"] = JSONValue(i.gAfter) }
                guard p["current_exec_status_id_ref"]?.stringValue != ref.statusID || p["cp_id"]?.stringValue != ref.planID else { return }
                WorkspaceState.point(&p, statusID: ref.statusID, planID: ref.planID)
            }
        }
        // 6. lock: the locked plan document replaces the DRAFT.
        if i.replacesDraft, try ops.readCatalogFile(path) != planBytes {
            try atomic.write(path, planBytes)
        }
    }


    /// What `exec_plan_<g>.txt` may hold before an install: lock needs the DRAFT it replaces
    /// (or, on a rerun after the install completed, the same locked plan); migrate needs no
    /// document, or the locked one an interrupted migrate of the same plan left (same digest).
    func checkPlan(_ existing: PlanFile?, _ i: PlanInstall, name: String) throws {
        let id = i.ref.planID
        if i.replacesDraft {
            guard let existing else {
                throw LogbookError(.notFound, "there is no DRAFT \(name) to lock; nothing written", plan: id, path: name)
            }
            guard existing.id == id else {
                throw LogbookError(.conflict, "\(name) holds plan \(existing.id), not \(id); nothing written", plan: id, path: name)
            }
            if existing.document.isLocked, existing.document.digest != i.plan.digest {
                throw LogbookError(.locked, "\(name) holds plan \(id) locked with digest \(existing.document.digest), not \(i.plan.digest); nothing written", plan: id, path: name)
            }
        } else if let existing {
            guard existing.id == id, existing.document.isLocked, existing.document.digest == i.plan.digest else {
                throw LogbookError(.alreadyExists, "\(name) already exists (plan \(existing.id), \(existing.document.isLocked ? "locked with digest \(existing.document.digest)" : "a DRAFT")); a new locked plan is never written over it; nothing written",
                                   plan: id, path: name)
            }
        }
    }
}
