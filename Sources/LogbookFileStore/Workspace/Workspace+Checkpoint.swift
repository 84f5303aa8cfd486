#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LogbookCore
import LogbookEngine

/// Signed checkpoints (C2SP tlog-checkpoint) of a status journal, and proofs against them.
///
/// Files beside the journal:
/// - `exec_status_<g>.checkpoint`: the latest checkpoint (replaced atomically);
/// - `exec_status_<g>.checkpoints/<size>.txt`: every checkpoint written, by tree size.
///
/// A checkpoint only protects against rollback and rewriting if someone keeps a copy away from
/// the workspace (another machine, a ticket, a witness): whoever can cut the journal can also
/// delete the files here. `logbook verify --checkpoint FILE` checks the journal against such a copy.
extension Workspace {
    public func checkpointPath(_ file: PlanFile) -> String { root + "/exec_status_\(file.g).checkpoint" }
    public func checkpointDirectory(_ file: PlanFile) -> String { root + "/exec_status_\(file.g).checkpoints" }
    /// `exec_status_<g>.checkpoints/<size>.txt`: the stored checkpoint of that tree size.
    public func checkpointHistoryPath(_ file: PlanFile, size: Int) -> String { checkpointDirectory(file) + "/\(size).txt" }
    func checkpointLockPath(_ file: PlanFile) -> String { root + "/.exec_status_\(file.g).checkpoint.lock" }

    /// `logbook/<workspace id>/<plan id>`, the origin line of this plan's checkpoints.
    public func checkpointOrigin(_ file: PlanFile) throws -> String {
        Checkpoint.origin(workspaceID: try readState().workspaceID, planID: file.id)
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
        let registry = try personas()
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
        guard try await store.journalExists(ref) else {
            throw LogbookError(.notLocked, "plan \(file.id) has no status journal (is it locked?)", plan: file.id)
        }
        let origin = try checkpointOrigin(file)
        // A damaged latest checkpoint is not "none": it stops the signing (verify reports it).
        let previous = try latestCheckpoint(file)
        var verifier = Verifier(plan: file.document, spec: spec, registry: registry, snapshot: try await store.loadSnapshot(ref))
        var tree = MerkleAccumulator()
        var previousCheck = previous.map { CheckpointCheck(checkpoint: $0) }
        try await store.forEachLine(ref) { line in
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

    /// Stores `cp` in the history and, unless a later one is there (or `asLatest` is false), as the latest.
    func storeCheckpoint(_ file: PlanFile, _ cp: Checkpoint, asLatest: Bool = true) async throws {
        let fd = try ops.openRegular(checkpointLockPath(file), O_RDWR | O_CREAT, 0o644)
        defer { ops.close(fd) }
        try ops.flock(fd, LOCK_EX)
        defer { try? ops.flock(fd, LOCK_UN) }
        let dir = checkpointDirectory(file)
        if mkdir(dir, 0o755) != 0 && errno != EEXIST { throw osError("mkdir", dir) }
        let historyPath = checkpointHistoryPath(file, size: cp.size)
        if access(historyPath, F_OK) == 0, let old = try storedCheckpoint(file, size: cp.size), old.root != cp.root {
            throw LogbookError(.corrupt, "a checkpoint of size \(cp.size) with another root is already stored (\(Paths.fileName(of: historyPath))): the journal was rewritten", plan: file.id)
        }
        let bytes = Array(cp.text.utf8)
        try AtomicFile(ops: ops).write(historyPath, bytes)
        let latest = try latestCheckpoint(file)
        if asLatest, latest == nil || latest!.size <= cp.size {
            try AtomicFile(ops: ops).write(checkpointPath(file), bytes)
        }
    }

    /// The latest stored checkpoint, or nil if none was written. Signatures are not checked.
    /// - Throws: `.badInput` if the file is not a checkpoint.
    public func latestCheckpoint(_ file: PlanFile) throws -> Checkpoint? {
        let path = checkpointPath(file)
        guard access(path, F_OK) == 0 else { return nil }
        do { return try Checkpoint(parsing: readFile(path)) } catch let e as LogbookError where e.code == .badInput {
            throw LogbookError(.corrupt, "\(Paths.fileName(of: path)): \(e.message)", plan: file.id)
        }
    }

    /// The tree sizes of the stored checkpoints, ascending.
    public func storedCheckpointSizes(_ file: PlanFile) -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: checkpointDirectory(file))) ?? []
        return names.compactMap { n in n.hasSuffix(".txt") ? Int(n.dropLast(4)) : nil }.sorted()
    }

    /// The stored checkpoint of `size`, if any. Signatures are not checked.
    public func storedCheckpoint(_ file: PlanFile, size: Int) throws -> Checkpoint? {
        let path = checkpointHistoryPath(file, size: size)
        guard access(path, F_OK) == 0 else { return nil }
        do { return try Checkpoint(parsing: readFile(path)) } catch let e as LogbookError where e.code == .badInput {
            throw LogbookError(.corrupt, "\(fileName(checkpointDirectory(file)))/\(Paths.fileName(of: path)): \(e.message)", plan: file.id)
        }
    }

    /// Reads a checkpoint file given on the command line.
    public func readCheckpoint(path: String) throws -> Checkpoint {
        let bytes: [UInt8]
        do { bytes = try readFile(path) } catch let e as LogbookError where e.code == .notFound {
            throw LogbookError(.notFound, "no checkpoint file \(path)")
        }
        do { return try Checkpoint(parsing: bytes) } catch {
            throw LogbookError(error.code, "\(path): \(error.message)")
        }
    }

    /// Checks that `cp` is a checkpoint of this plan signed by a supervisor in `personas.json`.
    func checkOwnCheckpoint(_ cp: Checkpoint, _ file: PlanFile, registry: PersonaRegistry, requireSupervisor: Bool = true) throws {
        let origin = try checkpointOrigin(file)
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
        try checkOwnCheckpoint(checkpoint, file, registry: try personas())
        var check = CheckpointCheck(checkpoint: checkpoint, hints: storedHints(file, below: checkpoint.size))
        try await store.forEachLine(file.journalRef) { check.feed($0) }
        return check.finish()
    }

    func storedHints(_ file: PlanFile, below size: Int) -> [Checkpoint] {
        storedCheckpointSizes(file).filter { $0 < size }.compactMap { try? storedCheckpoint(file, size: $0) }
    }

    /// The checkpoint `verify` checks the journal against: `explicit` (which must be this plan's
    /// and verify: else it throws), else the latest stored one (whose problems become the
    /// report's failure), else none.
    func checkpointCheck(_ file: PlanFile, explicit: Checkpoint?, registry: PersonaRegistry) throws -> CheckpointCheck? {
        if let explicit {
            try checkOwnCheckpoint(explicit, file, registry: registry)
            return CheckpointCheck(checkpoint: explicit, hints: storedHints(file, below: explicit.size))
        }
        let name = Paths.fileName(of: checkpointPath(file))
        let stored: Checkpoint?
        do { stored = try latestCheckpoint(file) } catch let e as LogbookError {
            let placeholder = Checkpoint(origin: "", size: 0, root: Merkle.emptyRoot)
            return CheckpointCheck(checkpoint: placeholder, failure: .init(seq: nil, kind: .unparseable, message: "\(name) is not a checkpoint: \(e.message)"))
        }
        if let stored {
            do { try checkOwnCheckpoint(stored, file, registry: registry) } catch let e as LogbookError {
                return CheckpointCheck(checkpoint: stored, failure: .init(seq: nil, kind: .forgedSignature, message: "\(name): \(e.message)"))
            }
        }
        // A later checkpoint in the history, written at a rotation and signed by the persona whose
        // commit rotated (not a supervisor), is a witness: the journal is checked against it too.
        if let size = storedCheckpointSizes(file).last, size > (stored?.size ?? 0) {
            let path = checkpointHistoryPath(file, size: size)
            let label = fileName(checkpointDirectory(file)) + "/" + fileName(path)
            let witness: Checkpoint
            do { witness = try Checkpoint(parsing: readFile(path)) } catch {
                let placeholder = Checkpoint(origin: "", size: 0, root: Merkle.emptyRoot)
                return CheckpointCheck(checkpoint: placeholder, failure: .init(seq: nil, kind: .unparseable, message: "\(label) is not a checkpoint: \(error)"))
            }
            do { try checkOwnCheckpoint(witness, file, registry: registry, requireSupervisor: false) } catch let e as LogbookError {
                return CheckpointCheck(checkpoint: witness, failure: .init(seq: nil, kind: .forgedSignature, message: "\(label): \(e.message)"))
            }
            return CheckpointCheck(checkpoint: witness, hints: storedHints(file, below: witness.size))
        }
        guard let stored else { return nil }
        return CheckpointCheck(checkpoint: stored, hints: storedHints(file, below: stored.size))
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
        let registry = try personas()
        guard let cp = try checkpoint ?? latestCheckpoint(file) else {
            throw LogbookError(.notFound, "plan \(file.id) has no checkpoint yet; write one with `logbook checkpoint --persona SUPERVISOR`", plan: file.id)
        }
        try checkOwnCheckpoint(cp, file, registry: registry)
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
        let registry = try personas()
        let (old, new) = a.size <= b.size ? (a, b) : (b, a)
        try checkOwnCheckpoint(old, file, registry: registry)
        try checkOwnCheckpoint(new, file, registry: registry)
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
        struct Enough: Error {}
        var i = 0
        var tree = MerkleAccumulator()
        do {
            try await store.forEachLine(file.journalRef) { line in
                guard i < count else { throw Enough() }
                guard let h = CheckpointCheck.eventHash(of: line) else {
                    throw LogbookError(.corrupt, "the journal line at seq \(i) has no readable event hash; run `logbook verify`", plan: file.id, seq: i)
                }
                tree.append(leafData: h.bytes)
                try body(i, h, line)
                i += 1
            }
        } catch is Enough {}
        return (i, tree.root)
    }
}
