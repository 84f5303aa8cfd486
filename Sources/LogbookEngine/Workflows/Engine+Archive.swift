import Foundation
import LogbookCore

/// Archive (SPEC §7): the last step of a plan's lifecycle.
extension LogbookEngine {
    public struct ArchiveOutcome: Sendable {
        /// The `archived` event.
        public var event: Event
        /// How many segments now hold the whole journal, and their bytes.
        public var segments: Int
        public var segmentBytes: Int64
        /// Files made read-only.
        public var readOnly: [String]
        /// Where `state.txt` points now, and its g.
        public var nextStatus: String?
        public var g: Int
        /// Whether this call moved `state.txt` (false when it had moved already or pointed elsewhere).
        public var movedState: Bool
    }

    /// Records `archived`, writes a checkpoint covering it, moves the whole journal into gzip
    /// segments, makes the status files read-only and moves `state.txt` on to the next active
    /// plan (or null) with g advanced.
    ///
    /// Checks first, then writes: the supervisor, a frozen status, and one full `verify` (which
    /// also checks the Validation Report's head against the journal). A journal that does not
    /// verify is refused (`.corrupt`, naming the finding's seq and kind) and nothing is written;
    /// a report that a crash inside freeze left unwritten is written before `archived`.
    ///
    /// Each step can be repeated, so a call after a crash finishes what the crashed one began.
    /// `state.txt` changes only if its `v_file_instance` is still the one read when this call
    /// began: of two concurrent state writers only one wins; the other gets a conflict.
    ///
    /// - Parameter next: plan id the state should point at next (default: the locked plan with the
    ///   lowest g whose status is still ACTIVE or VALIDATING, else null).
    public func archive(_ file: PlanFile, persona: String, signer: SigningKey?, next: String? = nil) async throws -> ArchiveOutcome {
        let stateAtStart = try await catalog.loadState()
        let book = try await self.book(file)
        var state = try await book.state()
        try requireSupervisor(state, persona, file, act: "archive")
        let nextStatus = try await nextStatusID(after: file, explicit: next)
        guard state.lifecycle == .frozen || state.lifecycle == .archived else {
            throw LogbookError(.refused, "plan \(file.id) is \(state.lifecycle.rawValue); validate and freeze it before archiving (`logbook validate`, `logbook freeze`)", plan: file.id, rule: "lifecycle")
        }
        let verified = try await verifiedOrRefuse(file, act: "archive")
        var replay = try await replayVerified(file, verified)
        guard let frozen = replay.atFrozen else {
            throw LogbookError(.corrupt, "plan \(file.id) is \(state.lifecycle.rawValue) but its journal has no `frozen` event; run `logbook verify`", plan: file.id)
        }
        // The report must exist (a crash inside freeze may have left it, or its checkpoint, unwritten).
        let ref = file.journalRef
        let storedJSON = try await artifacts.load(.reportJSON, of: ref)
        let storedMarkdown = try await artifacts.load(.reportMarkdown, of: ref)
        if storedJSON == nil || storedMarkdown == nil {
            if let signer, state.lifecycle == .frozen, await latestCheckpointSize(file) < frozen.state.seq + 1 {
                try await storeVerifiedCheckpoint(file, tree: frozen.tree, state: frozen.state, signer: signer)
            }
            try await writeReport(file, try await validationReport(file, replay))
        } else if let difference = try await reportDifference(file, rebuilt: try await validationReport(file, replay)) {
            // The report archive makes read-only must be the one the journal gives.
            throw LogbookError(.corrupt, "refusing to archive: \(difference); nothing was written; run `logbook report --check`", plan: file.id)
        }

        // 1. The lifecycle event (once).
        let event: Event
        if replay.state.lifecycle == .archived {
            event = try await book.event(at: replay.state.seq)
        } else {
            event = try await recordOnce(book, EventRequest(type: .archived, task: nil, persona: persona,
                                                            data: ["next_status_id_ref": JSONValue(nextStatus)]),
                                         signer: signer, done: .archived)
            try await extendReplay(&replay, file)
        }
        state = replay.state
        guard state.lifecycle == .archived else {
            throw LogbookError(.corrupt, "the `archived` event at seq \(event.seq) is not in the journal after recording it; run `logbook verify`", plan: file.id, seq: event.seq)
        }

        // 2. A checkpoint over the whole journal, signed by the supervisor.
        if let signer, await latestCheckpointSize(file) < state.seq + 1 {
            try await storeVerifiedCheckpoint(file, tree: replay.tree, state: state, signer: signer)
        }
        // 3. The snapshot as archived, then every line into segments (the last rotation).
        try await book.writeSnapshot(sealedBy: signer)
        let sealed = try await journals.seal(ref)

        // 4. Read-only artifacts (report, checkpoints).
        let readOnly = sealed.readOnly + (try await artifacts.seal(ref))

        // 5. state.txt moves on, once.
        let (current, moved) = try await catalog.exclusive { () async throws -> (WorkspaceState, Bool) in
            let now = try await catalog.loadState()
            guard now.currentStatusID == file.journalRef.statusID else { return (now, false) }
            let next = try await catalog.updateState(expectedVersion: stateAtStart.version) { p in
                WorkspaceState.point(&p, statusID: nextStatus, planID: nil)  // updateState fills cp_id from the plan file
                p["g"] = JSONValue((p["g"]?.intValue ?? 0) + 1)
            }
            return (next, true)
        }
        return ArchiveOutcome(event: event, segments: sealed.parts, segmentBytes: sealed.bytes, readOnly: readOnly, nextStatus: current.currentStatusID,
                              g: current.g, movedState: moved)
    }

    /// Records a lifecycle event, or, if another process recorded it first, returns that one.
    func recordOnce(_ book: StatusBook, _ request: EventRequest, signer: SigningKey?, done: StatusState.Lifecycle) async throws -> Event {
        do { return try await book.submit(request, signer: signer) } catch {
            let now = try await book.state()
            guard now.lifecycle == done else { throw error }
            return try await book.event(at: done == .frozen ? (now.frozenSeq ?? now.seq) : now.seq)
        }
    }

    /// The files that hold a plan's status record, as archive leaves them.
    func nextStatusID(after file: PlanFile, explicit: String?) async throws -> String? {
        if let explicit {
            let p = try await plan(explicit)
            guard p.g != file.g else { throw LogbookError(.badInput, "--next names the plan being archived (\(file.id))", plan: file.id) }
            guard p.document.isLocked else { throw LogbookError(.notLocked, "--next plan \(p.id) is a DRAFT; lock it first", plan: p.id) }
            return p.journalRef.statusID
        }
        for p in try await catalog.listPlans().sorted(by: { $0.g < $1.g }) where p.g != file.g && p.document.isLocked {
            guard try await journals.journalExists(p.journalRef) else { continue }
            if let snap = try? await journals.loadSnapshot(p.journalRef), let v = try? JSONParser.parse(snap),
               let life = v["payload"]?["overall_status_summary"]?["lifecycle_status"]?.stringValue,
               life == "FROZEN" || life == "ARCHIVED" {
                continue
            }
            return p.journalRef.statusID
        }
        return nil
    }
}
