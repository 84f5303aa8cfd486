import Foundation
import LogbookCore

extension Workspace {
    /// Opens the status of a locked plan for reading and writing.
    public func book(_ file: PlanFile, snapshotInterval: Int = 64) async throws -> StatusBook {
        guard file.document.isLocked else {
            throw LogbookError(.notLocked, "plan \(file.id) is a DRAFT; lock it first (`logbook plan lock \(file.id) --persona SUPERVISOR`)", plan: file.id)
        }
        let spec = try file.document.spec()
        let ws = self
        let options = StatusBook.Options(snapshotInterval: snapshotInterval, currentG: { try ws.readState().g })
        return try await StatusBook.open(store: store, ref: file.journalRef, plan: spec, options: options)
    }

    /// Verifies a plan's status (SPEC §9): every line, chain, signature and rule, the plan's
    /// digest, the trust roots, the snapshot, and whether a torn tail awaits recovery; and the
    /// journal against `checkpoint` (default: the latest stored one, if any) for truncation and forks.
    public func verify(_ file: PlanFile, checkpoint: Checkpoint? = nil) async throws -> VerifyReport {
        let spec: PlanSpec
        do { spec = try file.document.spec() } catch let e as LogbookError {
            var r = VerifyReport(plan: file.id)
            r.failure = .init(seq: 0, kind: .planEdited, message: "the plan file is no longer a valid plan: \(e.description)")
            return r
        }
        let ref = file.journalRef
        guard try await store.journalExists(ref) else {
            throw LogbookError(.notLocked, "plan \(file.id) has no status journal (is it locked?)", plan: file.id)
        }
        let registry = try personas()
        var v = Verifier(plan: file.document, spec: spec, registry: registry, snapshot: try await store.loadSnapshot(ref))
        var cp = try checkpointCheck(file, explicit: checkpoint, registry: registry)
        try await store.forEachLine(ref) { line in v.feed(line); cp?.feed(line) }
        var report = v.finish()
        finishCheckpointCheck(cp, into: &report)
        let torn = try store.tornTailBytes(ref)
        if torn > 0 {
            report.warnings.append("the journal ends with \(torn) bytes of a partial line (a writer died mid-write; never acknowledged); the next writer or `logbook recover` cuts it off")
        }
        return report
    }
}
