#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LogbookCore
import LogbookEngine
import Synchronization

extension Workspace {
    static let verifyBatchBytes = 256 * 1024

    /// Opens the status of a locked plan for reading and writing.
    ///
    /// The plan file is first checked against the digest its journal's genesis binds
    /// (``provenPlan(_:)``); the stored snapshot is used only if it is proved (see
    /// `StatusBook.open`). With `verifySignatures` (the server path), every event's signature is
    /// verified against personas.json before it is written.
    public func book(_ file: PlanFile, snapshotInterval: Int = 64, verifySignatures: Bool = false,
                     snapshotMaxAge: Double = 1.0) async throws -> StatusBook {
        // One existence check, one plan parse and one genesis read prove the plan (nil: a DRAFT
        // without a journal).
        guard let (spec, genesis) = try await provedPlanAndGenesis(file) else {
            throw LogbookError(.notLocked, "plan \(file.id) is a DRAFT; lock it first (`logbook plan lock \(file.id) --persona SUPERVISOR`)", plan: file.id)
        }
        let ws = self
        // Every line the book folds but did not write has its signature checked with these keys
        // (personas.json's, each under the key id its public key hashes to; the rules require
        // the key id the genesis trusts), so a line forged without a key is never built on.
        let registryKeys = try personas().keysByID
        let keys = verifySignatures ? registryKeys : nil
        let g = StateGCache(path: statePath)
        let logger = self.logger
        let options = StatusBook.Options(snapshotInterval: snapshotInterval, currentG: { try g.g(ws) },
                                         afterCommit: { signers in await ws.signRotationCheckpoint(file, signers: signers) },
                                         verifyKeys: keys, snapshotMaxAge: snapshotMaxAge,
                                         warn: { message in logger.warning("\(message)") }, lineKeys: registryKeys)
        return try await StatusBook.open(store: store, ref: file.journalRef, plan: spec, options: options, genesis: genesis)
    }

    /// Checks that a locked plan file is the plan its status journal was locked on: the genesis
    /// (seq 0, the journal's first line, the only one read) binds its digest. Call it before
    /// printing a locked plan or its status; ``book(_:snapshotInterval:verifySignatures:snapshotMaxAge:)``
    /// calls it before every read and write.
    ///
    /// A DRAFT without a journal passes (there is nothing to match).
    ///
    /// - Returns: the genesis event (nil for a DRAFT).
    /// - Throws: `.corrupt` (exit 6) with `verify`'s finding when the plan was edited after lock
    ///   (naming the edited task when it can) or its lock flags were removed; nothing is written.
    @discardableResult
    public func provenPlan(_ file: PlanFile) async throws -> Event? {
        try await provedPlanAndGenesis(file)?.genesis
    }

    /// ``provenPlan(_:)`` with the plan's spec it parsed (nil for a DRAFT without a journal).
    func provedPlanAndGenesis(_ file: PlanFile) async throws -> (spec: PlanSpec, genesis: Event)? {
        let ref = file.journalRef
        guard try await store.journalExists(ref) else {
            if file.document.isLocked {
                throw LogbookError(.notLocked, "plan \(file.id) has no status journal (is it locked?)", plan: file.id)
            }
            return nil
        }
        let spec: PlanSpec
        do { spec = try file.document.spec() } catch {
            throw LogbookError(.corrupt, "the plan file is no longer a valid plan: \(error.description); run `logbook verify`", plan: file.id, seq: 0)
        }
        let genesis = try await StatusBook.readGenesis(store: store, ref: ref, plan: spec)
        try PlanProof.check(file.document, genesis: genesis)
        return (spec, genesis)
    }

    /// Verifies a plan's status (SPEC §9): every line, chain, signature and rule, the plan's
    /// digest, the trust roots, the snapshot, and whether a torn tail awaits recovery; and the
    /// journal against `checkpoint` (default: the latest stored one, if any) for truncation and forks.
    public func verify(_ file: PlanFile, checkpoint: Checkpoint? = nil) async throws -> VerifyReport {
        let spec: PlanSpec
        do { spec = try file.document.spec() } catch {
            var r = VerifyReport(plan: file.id)
            r.failure = .init(seq: 0, kind: .planEdited, message: "the plan file is no longer a valid plan: \(error.description)")
            return r
        }
        let ref = file.journalRef
        guard try await store.journalExists(ref) else {
            throw LogbookError(.notLocked, "plan \(file.id) has no status journal (is it locked?)", plan: file.id)
        }
        let registry: PersonaRegistry
        switch try await trustRoots(verifying: file) {
        case .registry(let r): registry = r
        case .damaged(let f):
            var r = VerifyReport(plan: file.id)
            r.failure = f
            return r
        }
        var v = Verifier(plan: file.document, spec: spec, registry: registry, snapshot: try await store.loadSnapshot(ref))
        var cp = try checkpointCheck(file, explicit: checkpoint, registry: registry)
        // A segment that cannot be read is a finding (kind `segment`), not a crash of verify.
        let readFailure = try await feedJournal(ref, &v, &cp)
        var report = v.finish()
        noteReadFailure(readFailure, into: &report)
        try await checkFrozenHead(file, into: &report)
        finishCheckpointCheck(cp, into: &report)
        let torn = try store.tornTailBytes(ref)
        if torn > 0 {
            report.warnings.append("the journal ends with \(torn) bytes of a partial line (a writer died mid-write; never acknowledged); the next writer or `logbook recover` cuts it off")
        }
        return report
    }
}

extension Workspace {
    /// A frozen journal's head as its report says. (Segments were checked against the manifest
    /// while they were read: length, SHA-256 and last event.)
    func checkFrozenHead(_ file: PlanFile, into report: inout VerifyReport) async throws {
        guard report.failure == nil else { return }
        let mismatch = try await frozenHeadMismatch(file, report: report)
        if let bad = mismatch {
            report.failure = VerifyReport.Failure(seq: bad.seq, kind: .reportMismatch, message: bad.message)
        }
    }

    /// Feeds every line to the verifier and the checkpoint check; returns a read failure that is
    /// a finding (a segment missing or damaged) rather than throwing it.
    ///
    /// Lines are read in batches of about 256 KiB. The order-free checks of a batch (parse,
    /// canonical form, hash, Ed25519 signature) run on every core, then the ordered checks (seq,
    /// chain, trusted key, rules, snapshot) here: one batch in memory, whatever the journal's
    /// length. (Prechecking the next batch while this one goes through the ordered checks was a
    /// few per cent faster but, with gzip segments, took twice the memory.) After a failure only
    /// the checkpoint check still reads lines.
    func feedJournal(_ ref: JournalRef, _ v: inout Verifier, _ cp: inout CheckpointCheck?) async throws -> LogbookError? {
        let keys = v.signatureKeys
        var at: Int64 = 0
        while true {
            if v.failed && cp == nil { return nil }
            let batch: [JournalLine]
            switch await readBatch(ref, from: at, limit: Workspace.verifyBatchBytes) {
            case .success(let lines): batch = lines
            case .failure(let e):
                if e.code != .corrupt { throw e }
                return e
            }
            guard let last = batch.last else { return nil }
            let done = v.failed ? [] : Verifier.precheck(batch, keys: keys)
            if done.count == batch.count { v.feed(batch, checks: done) }
            if cp != nil {
                for (k, line) in batch.enumerated() {
                    if k < done.count, let h = done[k].eventHash { cp?.feed(eventHash: h) } else { cp?.feed(line) }
                }
            }
            at = last.end
        }
    }

    func noteReadFailure(_ e: LogbookError?, into report: inout VerifyReport) {
        // A read failure stops the pass, so the verifier's own finding at the end (empty,
        // truncated) is a consequence of it; an earlier finding stands.
        guard let e else { return }
        if let f = report.failure, let fs = f.seq, fs < (e.seq ?? Int.max), f.kind != .empty { return }
        report.failure = VerifyReport.Failure(seq: e.seq ?? report.lastSeq + 1, kind: .segment, message: e.message)
    }

    /// One batch of lines, or the store's error as a value.
    func readBatch(_ ref: JournalRef, from cursor: Int64, limit: Int = 1 << 20) async -> Result<[JournalLine], LogbookError> {
        do { return .success(try await store.read(ref, from: cursor, limit: limit)) } catch {
            return .failure(error as? LogbookError ?? LogbookError(.io, "\(error)"))
        }
    }
}

/// state.txt's g for every event a book writes, parsed again only when the file changed: it is
/// only ever replaced by a rename (a new inode), so an unchanged inode, size and mtime mean the
/// same g. One stat per commit instead of open, read and parse.
final class StateGCache: Sendable {
    let path: String
    let cached = Mutex<(FileVersion, Int)?>(nil)

    init(path: String) { self.path = path }

    func g(_ ws: Workspace) throws -> Int {
        guard let key = (try? FileVersion.of(path)) ?? nil else { return try ws.readState().g }
        if let (k, g) = cached.withLock({ $0 }), k == key { return g }
        let g = try ws.readState().g
        cached.withLock { $0 = (key, g) }
        return g
    }
}
