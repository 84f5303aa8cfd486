import Foundation
import LogbookCore

/// The lifecycle steps' one verification (SPEC §7, §9).
///
/// validate, freeze and archive each run `verify` once, before they write anything; a journal
/// that does not verify is refused (exit 6) and nothing is written. What they need afterwards
/// (the state and statistics at the `frozen` event, the Merkle tree for the checkpoint) comes
/// from a ``VerifiedReplay``: a second read that checks only each line's hash and that the hash
/// chain runs through the head `verify` accepted, so it sees exactly the verified events, plus
/// the ones this step appended after them, without checking every signature again.
extension LogbookEngine {
    /// Runs `verify` and returns its report when it passes; otherwise refuses the step, naming the
    /// finding's seq and kind.
    func verifiedOrRefuse(_ file: PlanFile, act: String) async throws -> VerifyReport {
        let report = try await verify(file)
        logger.debug("verified plan \(file.id) before \(act): \(report.ok ? "ok" : "failed"), \(report.events) events")
        if let f = report.failure {
            throw LogbookError(.corrupt, "refusing to \(act): the journal does not verify (\(f.kind.rawValue): \(f.message)); nothing was written; run `logbook verify`",
                               plan: file.id, seq: f.seq)
        }
        return report
    }

    /// The journal as `verify` accepted it, replayed without checking signatures again.
    struct VerifiedReplay {
        /// The head `verify` accepted.
        let verifiedSeq: Int
        let verifiedHead: Digest256?
        /// The state after every line read so far.
        var state: StatusState
        /// Statistics of the lines up to and including the `frozen` event.
        var stats = JournalStats()
        /// The Merkle tree of every line read so far, and as of the `frozen` event.
        var tree = MerkleAccumulator()
        var atFrozen: (state: StatusState, tree: MerkleAccumulator, events: Int, unsigned: Int)?
        var events = 0
        var unsigned = 0
        var cursor: Int64 = 0

        /// The verify result for the journal up to the `frozen` event, as the report states it
        /// (the same as `verify` gives for that prefix: it passed, and nothing after it is read).
        var frozenVerify: VerifyReport? {
            guard let f = atFrozen else { return nil }
            var r = VerifyReport(plan: f.state.plan.id)
            r.events = f.events
            r.unsigned = f.unsigned
            r.lastSeq = f.state.seq
            r.head = f.state.head
            return r
        }
    }

    /// Reads the whole journal after `verify` accepted it (see ``VerifiedReplay``).
    func replayVerified(_ file: PlanFile, _ verified: VerifyReport) async throws -> VerifiedReplay {
        var r = VerifiedReplay(verifiedSeq: verified.lastSeq, verifiedHead: verified.head, state: StatusState(plan: try file.document.spec()))
        try await extendReplay(&r, file)
        guard r.state.seq >= r.verifiedSeq else {
            throw LogbookError(.corrupt, "the journal ends at seq \(r.state.seq) but was verified up to seq \(r.verifiedSeq) a moment ago; run `logbook verify`",
                               plan: file.id, seq: r.state.seq + 1)
        }
        return r
    }

    /// Reads the lines written after `r.cursor` (the ones this step appended) into `r`.
    func extendReplay(_ r: inout VerifiedReplay, _ file: PlanFile) async throws {
        var replay = r
        let id = file.id
        try await journals.forEachLine(file.journalRef, from: r.cursor) { line in
            func changed(_ what: String, _ seq: Int) -> LogbookError {
                LogbookError(.corrupt, "the journal changed after it was verified: \(what); run `logbook verify`", plan: id, seq: seq)
            }
            let at = replay.state.seq + 1
            guard let e = try? Event(line: line.bytes), e.computedHash == e.hash else { throw changed("the line after seq \(at - 1) is damaged", at) }
            if e.seq == replay.verifiedSeq, e.hash != replay.verifiedHead { throw changed("seq \(e.seq) is not the event verify accepted", e.seq) }
            do { try replay.state.apply(e) } catch let error as LogbookError { throw changed(error.description, e.seq) }
            replay.tree.append(leafData: e.hash.bytes)
            replay.events += 1
            if e.sig == nil { replay.unsigned += 1 }
            if replay.atFrozen == nil { replay.stats.add(e) }
            if e.type == .frozen {
                replay.atFrozen = (replay.state, replay.tree, replay.events, replay.unsigned)
            }
            replay.cursor = line.end
        }
        r = replay
    }

    /// Signs and stores a checkpoint of `tree` (a prefix of the journal that `verify` accepted,
    /// which also checked it against the latest stored checkpoint) with the supervisor's key.
    func storeVerifiedCheckpoint(_ file: PlanFile, tree: MerkleAccumulator, state: StatusState, signer: SigningKey) async throws {
        let registry = try await catalog.loadPersonas()
        guard let p = registry[signer.persona], p.publicKey == signer.publicKey else {
            throw LogbookError(.badSignature, "the private key given for \(signer.persona) does not match its public key in personas.json", plan: file.id)
        }
        guard state.personas[signer.persona]?.role == .supervisor else {
            throw LogbookError(.forbidden, "only a supervisor signs a checkpoint; \(signer.persona) is not a supervisor of plan \(file.id)", plan: file.id, rule: "supervisor_only")
        }
        var cp = Checkpoint(origin: try await checkpointOrigin(file), size: tree.size, root: tree.root)
        cp.sign(with: signer)
        try cp.verify(registry: registry)
        try await storeCheckpoint(file, cp)
    }

    /// The Validation Report of a replay that reached the `frozen` event.
    func validationReport(_ file: PlanFile, _ r: VerifiedReplay) async throws -> JSONValue {
        guard let f = r.atFrozen, let v = r.frozenVerify else {
            throw LogbookError(.refused, "plan \(file.id) is not frozen; the report is written by `logbook freeze`", plan: file.id, rule: "lifecycle")
        }
        let checkpoint = ((try? await storedCheckpoint(file, size: f.state.seq + 1)) ?? nil)?.text
        return ValidationReport.build(plan: file.document, state: f.state, stats: r.stats, verify: v, checkpoint: checkpoint)
    }

    /// Writes both report files.
    @discardableResult
    func writeReport(_ file: PlanFile, _ report: JSONValue) async throws -> JSONValue {
        try await artifacts.store(.reportJSON, of: file.journalRef, PrettyJSON.bytes(report))
        try await artifacts.store(.reportMarkdown, of: file.journalRef, Array(ValidationReport.markdown(report).utf8))
        return report
    }
}
