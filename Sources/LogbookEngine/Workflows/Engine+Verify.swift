import Foundation
import LogbookCore

extension LogbookEngine {
    static let verifyBatchBytes = 256 * 1024

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
        guard try await journals.journalExists(ref) else {
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
        var v = Verifier(plan: file.document, spec: spec, registry: registry, snapshot: try await journals.loadSnapshot(ref))
        var cp = try await checkpointCheck(file, explicit: checkpoint, registry: registry)
        // A segment that cannot be read is a finding (kind `segment`), not a crash of verify.
        let readFailure = try await feedJournal(ref, &v, &cp)
        var report = v.finish()
        noteReadFailure(readFailure, into: &report)
        try await checkFrozenHead(file, into: &report)
        finishCheckpointCheck(cp, into: &report)
        for finding in try await journals.findings(ref) where finding.kind == .tornTail || finding.kind == .unsynced {
            report.warnings.append(finding.message)
        }
        return report
    }
}

extension LogbookEngine {
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
            try Task.checkCancellation()  // a server shutting down stops a long verify
            if v.failed && cp == nil { return nil }
            let batch: [JournalLine]
            switch await readBatch(ref, from: at, limit: LogbookEngine.verifyBatchBytes) {
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
        do { return .success(try await journals.read(ref, from: cursor, limit: limit)) } catch {
            return .failure(error as? LogbookError ?? LogbookError(.io, "\(error)"))
        }
    }
}

