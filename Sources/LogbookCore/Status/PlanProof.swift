/// Whether a plan file is the plan its journal's genesis was locked on: seq 0's `prev` is the
/// plan digest. Writers and readers check it before they use the plan, with the finding `verify`
/// gives.
public enum PlanProof {
    /// Throws `.corrupt` (seq 0) when `plan` is not the plan `genesis` binds: its
    /// lock flags were removed, or its digest differs (naming the edited task when the genesis'
    /// task digests can tell).
    public static func check(_ plan: PlanDocument, genesis: Event) throws(LogbookError) {
        let id = genesis.plan
        guard plan.isLocked else {
            throw LogbookError(.corrupt, "the plan file is not marked locked (its lock flags were removed), yet it has a status journal; run `logbook verify`",
                               plan: id, seq: 0)
        }
        guard genesis.prev == plan.digest else {
            throw LogbookError(.corrupt, editedMessage(plan, genesis: genesis) + "; nothing was written (run `logbook verify`)", plan: id, seq: 0)
        }
    }

    /// `verify`'s finding for a plan whose digest is not the one the genesis binds.
    public static func editedMessage(_ plan: PlanDocument, genesis e: Event) -> String {
        "the plan file changed after lock: digest \(plan.digest) is not the locked \(e.prev)" + whereEdited(plan, genesis: e)
    }

    /// Names the edited task when the genesis' task digests can tell.
    static func whereEdited(_ plan: PlanDocument, genesis e: Event) -> String {
        guard let recorded = e.data["task_digests"]?.objectValue else { return "" }
        let now = plan.taskDigests
        for (i, t) in (plan.payload["tasks"]?.arrayValue ?? []).enumerated() {
            guard let id = t["task_id"]?.stringValue else { return " (first difference at payload.tasks[\(i)].task_id)" }
            if recorded[id] == nil { return " (payload.tasks[\(i)]: task \(id) was added)" }
            if recorded[id] != now[id] { return " (first difference in payload.tasks[\(i)], task \(id))" }
        }
        if now.count != recorded.count { return " (a task was removed)" }
        return " (the difference is outside payload.tasks)"
    }
}
