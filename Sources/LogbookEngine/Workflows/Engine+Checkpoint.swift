import Foundation
import LogbookCore

/// Signed checkpoints (C2SP tlog-checkpoint) of a status journal, and proofs against them.
///
/// Files beside the journal:
/// - `exec_status_<g>.checkpoint`: the latest checkpoint (replaced atomically);
/// - `exec_status_<g>.checkpoints/<size>.txt`: every checkpoint written, by tree size.
///
/// A checkpoint only protects against rollback and rewriting if someone keeps a copy away from
/// the workspace (another machine, a ticket, a witness): whoever can cut the journal can also
/// delete the files here. `logbook verify --checkpoint FILE` checks the journal against such a copy.
extension LogbookEngine {
    /// `logbook/<workspace id>/<plan id>`, the origin line of this plan's checkpoints.
    public func checkpointOrigin(_ file: PlanFile) async throws -> String {
        Checkpoint.origin(workspaceID: try await catalog.loadState().workspaceID, planID: file.id)
    }

    /// Writes a checkpoint of the journal as it is now, signed by `signers`.
    ///
    /// The journal is verified in the same pass (a damaged journal is never signed), and must
    /// still match the latest stored checkpoint (a log never signs two inconsistent checkpoints).
    ///
    /// ```swift
    /// let cp = try await ws.writeCheckpoint(file, signers: [try ws.signingKey(for: "SUPERVISOR")])
    /// print(cp.text)
    /// ```
    ///
    /// - Parameter signers: at least one supervisor of the plan; co-signers may be any persona of
    ///   the plan. Each key must be the persona's key in `personas.json`.
    /// - Throws: `.forbidden` without a supervisor or for a persona outside the plan, `.badSignature`
    ///   for a key that is not the persona's, `.corrupt` when the journal does not verify or no
    ///   longer matches the latest checkpoint.
    @discardableResult
    public func writeCheckpoint(_ file: PlanFile, signers: [SigningKey]) async throws -> Checkpoint {
        guard !signers.isEmpty else { throw LogbookError(.badInput, "a checkpoint needs at least one signer (a supervisor)", plan: file.id) }
        let registry = try await catalog.loadPersonas()
        for s in signers {
            guard let p = registry[s.persona] else {
                throw LogbookError(.forbidden, "persona \(s.persona) is not in personas.json", plan: file.id)
            }
            guard p.publicKey == s.publicKey else {
                throw LogbookError(.badSignature, "the private key given for \(s.persona) does not match its public key in personas.json", plan: file.id)
            }
        }
        let spec = try file.document.spec()
        let ref = file.journalRef
        guard try await journals.journalExists(ref) else {
            throw LogbookError(.notLocked, "plan \(file.id) has no status journal (is it locked?)", plan: file.id)
        }
        let origin = try await checkpointOrigin(file)
        // A damaged latest checkpoint is not "none": it stops the signing (verify reports it).
        let previous = try await latestCheckpoint(file)
        var verifier = Verifier(plan: file.document, spec: spec, registry: registry, snapshot: try await journals.loadSnapshot(ref))
        var tree = MerkleAccumulator()
        var previousCheck = previous.map { CheckpointCheck(checkpoint: $0) }
        try await journals.forEachLine(ref) { line in
            verifier.feed(line)
            guard !verifier.failed else { return }
            guard let h = CheckpointCheck.eventHash(of: line) else { previousCheck?.feed(line); return }
            previousCheck?.feed(eventHash: h)
            tree.append(leafData: h.bytes)
        }
        let state = verifier.replayedState
        let report = verifier.finish()
        if let f = report.failure {
            throw LogbookError(.corrupt, "refusing to sign a checkpoint: the journal does not verify (\(f.description)); run `logbook verify`", plan: file.id)
        }
        if let f = previousCheck?.finish() {
            throw LogbookError(.corrupt, "refusing to sign a checkpoint: the journal no longer matches the latest checkpoint (\(f.description))", plan: file.id)
        }
        // Only a supervisor of the plan signs; co-signers are personas of the plan.
        for s in signers where state.personas[s.persona] == nil {
            throw LogbookError(.forbidden, "persona \(s.persona) is not a persona of plan \(file.id) and may not co-sign its checkpoint", plan: file.id)
        }
        guard signers.contains(where: { state.personas[$0.persona]?.role == .supervisor }) else {
            throw LogbookError(.forbidden, "only a supervisor signs a checkpoint; \(signers.map(\.persona).joined(separator: ", ")) \(signers.count == 1 ? "is not a supervisor" : "are not supervisors") of plan \(file.id)",
                               plan: file.id, rule: "supervisor_only")
        }
        var cp = Checkpoint(origin: origin, size: tree.size, root: tree.root)
        for s in signers { cp.sign(with: s) }
        try cp.verify(registry: registry)
        try await storeCheckpoint(file, cp)
        return cp
    }

    /// Stores `cp` in the history (a checkpoint of that size with another root is refused: the
    /// journal was rewritten) and, with `asLatest`, as the latest unless a larger one is stored.
    func storeCheckpoint(_ file: PlanFile, _ cp: Checkpoint, asLatest: Bool = true) async throws {
        let ref = file.journalRef
        try await artifacts.exclusive(checkpointsOf: ref) { () async throws -> Void in
            try await storeCheckpointLocked(file, cp, asLatest: asLatest)
        }
    }

    func storeCheckpointLocked(_ file: PlanFile, _ cp: Checkpoint, asLatest: Bool) async throws {
        let ref = file.journalRef
        if let old = try await storedCheckpoint(file, size: cp.size), old.root != cp.root {
            throw LogbookError(.corrupt, "a checkpoint of size \(cp.size) with another root is already stored (\(artifacts.name(of: .checkpoint(size: cp.size), ref))): the journal was rewritten", plan: file.id)
        }
        let bytes = Array(cp.text.utf8)
        try await artifacts.store(.checkpoint(size: cp.size), of: ref, bytes)
        let latest = try await latestCheckpoint(file)
        if asLatest, latest == nil || latest!.size <= cp.size {
            try await artifacts.store(.latestCheckpoint, of: ref, bytes)
        }
    }

    public func latestCheckpoint(_ file: PlanFile) async throws -> Checkpoint? {
        guard let bytes = try await artifacts.load(.latestCheckpoint, of: file.journalRef) else { return nil }
        return try Self.parseCheckpoint(bytes, name: artifacts.name(of: .latestCheckpoint, file.journalRef), plan: file.id)
    }

    /// A stored checkpoint's text parsed; a damaged one is `.corrupt` naming where it is stored.
    ///
    /// Kept synchronous: a typed-throws `catch` inside an async function crashes swiftc 6.3.1
    /// (an ownership verifier failure).
    static func parseCheckpoint(_ bytes: [UInt8], name: String, plan: String) throws -> Checkpoint {
        switch parseCheckpoint(bytes) {
        case .success(let cp): return cp
        case .failure(let e) where e.code == .badInput:
            throw LogbookError(.corrupt, "\(name): \(e.message)", plan: plan)
        case .failure(let e): throw e
        }
    }

    static func parseCheckpoint(_ bytes: [UInt8]) -> Result<Checkpoint, LogbookError> {
        do { return .success(try Checkpoint(parsing: bytes)) } catch { return .failure(error) }
    }

    /// The tree sizes of the stored checkpoints, ascending.
    public func storedCheckpointSizes(_ file: PlanFile) async -> [Int] {
        (try? await artifacts.checkpointSizes(of: file.journalRef)) ?? []
    }

    /// The stored checkpoint of `size`, if any. Signatures are not checked.
    public func storedCheckpoint(_ file: PlanFile, size: Int) async throws -> Checkpoint? {
        guard let bytes = try await artifacts.load(.checkpoint(size: size), of: file.journalRef) else { return nil }
        return try Self.parseCheckpoint(bytes, name: artifacts.name(of: .checkpoint(size: size), file.journalRef), plan: file.id)
    }

    /// Checks that `cp` is a checkpoint of this plan signed by a supervisor in `personas.json`.
    func checkOwnCheckpoint(_ cp: Checkpoint, _ file: PlanFile, registry: PersonaRegistry, requireSupervisor: Bool = true) async throws {
        let origin = try await checkpointOrigin(file)
        guard cp.origin == origin else {
            throw LogbookError(.badInput, "the checkpoint is for \(cp.origin), not for this plan (\(origin))", plan: file.id)
        }
        try cp.verify(registry: registry, requireSupervisor: requireSupervisor)
    }

    /// Checks the journal against `checkpoint` only (see ``CheckpointCheck``): nil when it
    /// matches, else a `truncated` or `forked` failure. The stored history narrows down a fork.
    ///
    /// - Throws: if the checkpoint is not this plan's or its signatures do not verify.
    public func verifyAgainst(checkpoint: Checkpoint, _ file: PlanFile) async throws -> VerifyReport.Failure? {
        try await checkOwnCheckpoint(checkpoint, file, registry: try await catalog.loadPersonas())
        var check = CheckpointCheck(checkpoint: checkpoint, hints: await storedHints(file, below: checkpoint.size))
        try await journals.forEachLine(file.journalRef) { check.feed($0) }
        return check.finish()
    }

    func storedHints(_ file: PlanFile, below limit: Int) async -> [Checkpoint] {
        var out: [Checkpoint] = []
        for size in await storedCheckpointSizes(file) where size < limit {
            if let cp = try? await storedCheckpoint(file, size: size) { out.append(cp) }
        }
        return out
    }

    /// The checkpoint `verify` checks the journal against: `explicit` (which must be this plan's
    /// and verify: else it throws), else the latest stored one (whose problems become the
    /// report's failure), else none.
    func checkpointCheck(_ file: PlanFile, explicit: Checkpoint?, registry: PersonaRegistry) async throws -> CheckpointCheck? {
        if let explicit {
            try await checkOwnCheckpoint(explicit, file, registry: registry)
            return CheckpointCheck(checkpoint: explicit, hints: await storedHints(file, below: explicit.size))
        }
        let ref = file.journalRef
        let name = artifacts.name(of: .latestCheckpoint, ref)
        var stored: Checkpoint? = nil
        do { stored = try await latestCheckpoint(file) } catch let e as LogbookError {
            let placeholder = Checkpoint(origin: "", size: 0, root: Merkle.emptyRoot)
            return CheckpointCheck(checkpoint: placeholder, failure: .init(seq: nil, kind: .unparseable, message: "\(name) is not a checkpoint: \(e.message)"))
        }
        if let stored {
            do { try await checkOwnCheckpoint(stored, file, registry: registry) } catch let e as LogbookError {
                return CheckpointCheck(checkpoint: stored, failure: .init(seq: nil, kind: .forgedSignature, message: "\(name): \(e.message)"))
            }
        }
        // A later checkpoint in the history, written at a rotation and signed by the persona whose
        // commit rotated (not a supervisor), is a witness: the journal is checked against it too.
        if let size = await storedCheckpointSizes(file).last, size > (stored?.size ?? 0) {
            let label = artifacts.name(of: .checkpoint(size: size), ref)
            let witnessBytes = try await artifacts.load(.checkpoint(size: size), of: ref) ?? []
            let witness: Checkpoint
            switch Self.parseCheckpoint(witnessBytes) {
            case .success(let cp): witness = cp
            case .failure(let error):
                let placeholder = Checkpoint(origin: "", size: 0, root: Merkle.emptyRoot)
                return CheckpointCheck(checkpoint: placeholder, failure: .init(seq: nil, kind: .unparseable, message: "\(label) is not a checkpoint: \(error)"))
            }
            do { try await checkOwnCheckpoint(witness, file, registry: registry, requireSupervisor: false) } catch let e as LogbookError {
                return CheckpointCheck(checkpoint: witness, failure: .init(seq: nil, kind: .forgedSignature, message: "\(label): \(e.message)"))
            }
            return CheckpointCheck(checkpoint: witness, hints: await storedHints(file, below: witness.size))
        }
        guard let stored else { return nil }
        return CheckpointCheck(checkpoint: stored, hints: await storedHints(file, below: stored.size))
    }

    /// Adds the checkpoint's verdict to a report whose journal checks passed.
    func finishCheckpointCheck(_ check: CheckpointCheck?, into report: inout VerifyReport) {
        guard let check else { return }
        let failure = check.finish()
        // A checkpoint that could not be read or trusted is not one the journal was checked against.
        if failure == nil || failure?.kind == .truncated || failure?.kind == .forked { report.checkpoint = check.checkpoint }
        if report.failure == nil, let failure { report.failure = failure }
    }

    // MARK: Proofs

    /// An inclusion proof of the event at `seq` against `checkpoint` (default: the latest stored).
    ///
    /// - Throws: `.notFound` without a checkpoint, `.badInput` for a seq the checkpoint does not
    ///   cover, `.badSignature` for a checkpoint that does not verify, `.corrupt` if the journal
    ///   no longer matches the checkpoint.
    public func inclusionProof(_ file: PlanFile, seq: Int, checkpoint: Checkpoint? = nil) async throws -> InclusionProof {
        let registry = try await catalog.loadPersonas()
        guard let cp = try await checkpointOrLatest(checkpoint, file) else {
            throw LogbookError(.notFound, "plan \(file.id) has no checkpoint yet; write one with `logbook checkpoint --persona SUPERVISOR`", plan: file.id)
        }
        try await checkOwnCheckpoint(cp, file, registry: registry)
        guard seq >= 0, seq < cp.size else {
            throw LogbookError(.badInput, "seq \(seq) is not covered by the checkpoint (size \(cp.size): seq 0–\(cp.size - 1)); write a newer checkpoint", plan: file.id)
        }
        var builder = MerkleProofBuilder(ranges: try Merkle.inclusionRanges(index: seq, size: cp.size))
        var event: Event?
        let seen = try await streamLeaves(file, count: cp.size) { i, hash, line in
            builder.append(leafHash: Merkle.leafHash(hash.bytes))
            if i == seq { event = try Event(line: line.bytes) }
        }
        try matchJournal(file, cp, seen)
        guard let event else { throw LogbookError(.corrupt, "seq \(seq) is missing from the journal", plan: file.id) }
        let proof = InclusionProof(plan: file.id, seq: seq, eventHash: event.hash, treeSize: cp.size,
                                   auditPath: try builder.finish(), checkpoint: cp, event: event)
        try proof.verify(registry: registry)
        return proof
    }

    /// A consistency proof between two checkpoints of this plan (in either order), built from the
    /// journal, which must match both.
    public func consistencyProof(_ file: PlanFile, from a: Checkpoint, to b: Checkpoint) async throws -> ConsistencyProof {
        let registry = try await catalog.loadPersonas()
        let (old, new) = a.size <= b.size ? (a, b) : (b, a)
        try await checkOwnCheckpoint(old, file, registry: registry)
        try await checkOwnCheckpoint(new, file, registry: registry)
        var builder = MerkleProofBuilder(ranges: try Merkle.consistencyRanges(oldSize: old.size, newSize: new.size))
        var tree = MerkleAccumulator()
        var oldRoot: Digest256? = old.size == 0 ? Merkle.emptyRoot : nil
        let seen = try await streamLeaves(file, count: new.size) { _, hash, _ in
            let leaf = Merkle.leafHash(hash.bytes)
            builder.append(leafHash: leaf)
            tree.append(leafHash: leaf)
            if tree.size == old.size { oldRoot = tree.root }
        }
        guard seen.count >= new.size else {
            throw LogbookError(.corrupt, "the journal has \(seen.count) events, fewer than the newer checkpoint's \(new.size) (truncated)", plan: file.id)
        }
        guard oldRoot == old.root else {
            throw LogbookError(.corrupt, "the journal does not match the checkpoint at size \(old.size) (forked)", plan: file.id)
        }
        guard tree.root == new.root else {
            throw LogbookError(.corrupt, "the journal does not match the checkpoint at size \(new.size) (forked: its first \(old.size) events still match the older one)", plan: file.id)
        }
        let proof = ConsistencyProof(plan: file.id, old: old, new: new, path: try builder.finish())
        try proof.verify(registry: registry)
        return proof
    }

    /// Checks that the journal's first `cp.size` events give the checkpoint's root.
    func checkpointOrLatest(_ cp: Checkpoint?, _ file: PlanFile) async throws -> Checkpoint? {
        if let cp { return cp }
        return try await latestCheckpoint(file)
    }

    func matchJournal(_ file: PlanFile, _ cp: Checkpoint, _ seen: (count: Int, root: Digest256)) throws {
        guard seen.count >= cp.size else {
            throw LogbookError(.corrupt, "the journal has \(seen.count) events, fewer than the checkpoint's \(cp.size): events were cut off (truncated)", plan: file.id)
        }
        guard seen.root == cp.root else {
            throw LogbookError(.corrupt, "the journal's first \(cp.size) events do not give the checkpoint's root: the history was rewritten (forked)", plan: file.id)
        }
    }

    /// Streams the event hashes of the first `count` lines; returns how many there were (≤ count)
    /// and the tree root over them.
    func streamLeaves(_ file: PlanFile, count: Int,
                      _ body: (Int, Digest256, JournalLine) throws -> Void) async throws -> (count: Int, root: Digest256) {
        var i = 0
        var tree = MerkleAccumulator()
        var at: Int64 = 0
        reading: while i < count {
            let batch = try await journals.read(file.journalRef, from: at, limit: 1 << 20)
            guard let last = batch.last else { break }
            for line in batch {
                guard i < count else { break reading }
                guard let h = CheckpointCheck.eventHash(of: line) else {
                    throw LogbookError(.corrupt, "the journal line at seq \(i) has no readable event hash; run `logbook verify`", plan: file.id, seq: i)
                }
                tree.append(leafData: h.bytes)
                try body(i, h, line)
                i += 1
            }
            at = last.end
        }
        return (i, tree.root)
    }
}
