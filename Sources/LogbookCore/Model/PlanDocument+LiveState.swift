extension PlanDocument {
    /// Plan-level fields of the ratified v5.4 payload that the migration also moves as legacy
    /// state (SCHEMAS.md lists them in the immutable spec), so a plan may carry them.
    static let ratifiedPlanFields: Set<String> = ["final_execution_status", "final_validation_status"]

    /// The JSON paths of live state in the plan (`payload.tasks[2].status`,
    /// `payload.tasks[0].execution_checklist[1].checked`, `payload.overall_status`, …): the
    /// fields ``LegacyMigration`` moves out of a plan into the status journal. A plan is an
    /// immutable spec, so one that carries them is imported with `logbook migrate`, not as a DRAFT.
    public var liveStatePaths: [JSONPath] {
        let base = JSONPath([.key("payload")])
        var out: [JSONPath] = []
        for (k, _) in payload where LegacyMigration.livePlanFields.contains(k) && !Self.ratifiedPlanFields.contains(k) {
            out.append(base.appending(k))
        }
        for (i, t) in (payload["tasks"]?.arrayValue ?? []).enumerated() {
            guard let task = t.objectValue else { continue }
            let tp = base.appending("tasks").appending(i)
            for (k, _) in task where LegacyMigration.liveTaskFields.contains(k) { out.append(tp.appending(k)) }
            for (j, item) in (task["execution_checklist"]?.arrayValue ?? []).enumerated() {
                for (k, _) in item.objectValue ?? JSONObject() where LegacyMigration.liveChecklistFields.contains(k) {
                    out.append(tp.appending("execution_checklist").appending(j).appending(k))
                }
            }
        }
        return out
    }

    /// Refuses a plan that carries live state (see ``liveStatePaths``), naming every path.
    public func refuseLiveState(name: String) throws(LogbookError) {
        let paths = liveStatePaths
        guard let first = paths.first else { return }
        let listed = paths.prefix(6).map(\.description).joined(separator: ", ") + (paths.count > 6 ? ", … (\(paths.count) in all)" : "")
        throw LogbookError(.invalidPlan, "\(name) carries live state (\(listed)); a plan is an immutable spec and holds no status. Split it into a plan and its status journal with `logbook migrate \(name) --persona SUPERVISOR`",
                           plan: planID, path: first.description)
    }
}
