/// How the reducer starts a migrated plan from the legacy state its `migrated` genesis carries.
///
/// The genesis data (built by ``LegacyMigration``) holds, besides the normal genesis data:
/// - `legacy_task_status`: task id → mapped status (DONE stays DONE);
/// - `legacy_tasks`: task id → {original_status, status, percent_complete, retries_used,
///   retries_from, tests, tests_from, blocker_reason, execution_checklist}: percent, retries used
///   (counted against `max_retries`), latest test counts, the blocker reason of a BLOCKED task and
///   the checklist item states; the whole object is shown as the task's `legacy` in the snapshot;
/// - `migration` and `legacy_plan_status`: the source and the plan-level legacy statuses, shown as
///   the snapshot's `migrated_from`;
/// - `legacy_state` (+ `legacy_state_file`, `legacy_moves`): every removed value verbatim by path,
///   which the reducer does not interpret.
extension StatusState {
    /// Folds the legacy part of a genesis. A `created` genesis carries none of it (its
    /// `legacy_task_status`, if any, is read as it always was).
    mutating func foldLegacy(_ d: JSONObject) {
        if let statuses = d["legacy_task_status"]?.objectValue {
            for (id, st) in statuses {
                guard let i = plan.taskIndex[id], let s = st.stringValue.flatMap(TaskStatus.init(rawValue:)) else { continue }
                tasks[i].status = s
                if s.isComplete { tasks[i].percent = 100 }
            }
        }
        if let m = d["migration"]?.objectValue {
            var from = JSONObject()
            for k in ["source_file", "source_sha256", "source_shape", "state_file", "state_sha256"] { if let v = m[k] { from[k] = v } }
            for (k, v) in d["legacy_plan_status"]?.objectValue ?? JSONObject() { from[k] = v }
            migratedFrom = from
        }
        for (id, info) in d["legacy_tasks"]?.objectValue ?? JSONObject() {
            guard let i = plan.taskIndex[id], let o = info.objectValue else { continue }
            var t = tasks[i]
            t.legacy = o
            if !t.status.isComplete, let p = o["percent_complete"]?.intValue { t.percent = min(100, max(0, p)) }
            if let r = o["retries_used"]?.intValue, r >= 0 { t.attempts = r }
            for (suite, c) in o["tests"]?.objectValue ?? JSONObject() {
                t.tests[suite] = .object(JSONObject([
                    ("passed", c["passed"] ?? 0), ("failed", c["failed"] ?? 0), ("skipped", c["skipped"] ?? 0),
                    ("artifact", .null), ("seq", 0),
                ]))
            }
            if t.status == .blocked {
                t.blockReason = o["blocker_reason"]?.stringValue ?? "BLOCKED in the legacy plan"
                t.blockedSeq = 0
            }
            tasks[i] = t
        }
    }

    /// Checks the legacy part of a `migrated` genesis: known tasks, known statuses, percents
    /// 0–100, counts ≥ 0, the source digest. Throws `.corrupt` (rule genesis).
    func checkLegacy(_ d: JSONObject) throws(LogbookError) {
        func bad(_ msg: String) -> LogbookError { LogbookError(.corrupt, "genesis: \(msg)", plan: plan.id, rule: "genesis") }
        guard let m = d["migration"]?.objectValue, m["source_sha256"]?.stringValue.flatMap(Digest256.init) != nil else {
            throw bad("a migrated genesis needs data.migration.source_sha256")
        }
        guard d["legacy_state"]?.objectValue != nil else { throw bad("a migrated genesis needs data.legacy_state (an object)") }
        for (id, st) in d["legacy_task_status"]?.objectValue ?? JSONObject() {
            guard plan.taskIndex[id] != nil else { throw bad("legacy_task_status names unknown task \(id)") }
            guard st.stringValue.flatMap(TaskStatus.init(rawValue:)) != nil else {
                throw bad("legacy_task_status.\(id) is not a task status: \(CanonicalJSON.string(st).prefix(40))")
            }
        }
        if let lt = d["legacy_tasks"], lt.objectValue == nil { throw bad("legacy_tasks must be an object") }
        for (id, info) in d["legacy_tasks"]?.objectValue ?? JSONObject() {
            guard plan.taskIndex[id] != nil else { throw bad("legacy_tasks names unknown task \(id)") }
            guard let o = info.objectValue else { throw bad("legacy_tasks.\(id) must be an object") }
            if let p = o["percent_complete"], !(p.intValue.map { (0...100).contains($0) } ?? false) {
                throw bad("legacy_tasks.\(id).percent_complete must be a whole number from 0 to 100")
            }
            if let r = o["retries_used"], !(r.intValue.map { $0 >= 0 } ?? false) {
                throw bad("legacy_tasks.\(id).retries_used must be a whole number ≥ 0")
            }
            if let tests = o["tests"] {
                guard let to = tests.objectValue else { throw bad("legacy_tasks.\(id).tests must be an object") }
                for (suite, c) in to {
                    guard let p = c["passed"]?.intValue, let f = c["failed"]?.intValue, p >= 0, f >= 0 else {
                        throw bad("legacy_tasks.\(id).tests.\(suite) needs passed and failed counts")
                    }
                }
            }
            if let r = o["blocker_reason"], (r.stringValue?.utf8.count ?? Int.max) > Event.maxTextBytes {
                throw bad("legacy_tasks.\(id).blocker_reason must be a string of at most \(Event.maxTextBytes) bytes")
            }
        }
    }
}

extension StatusState {
    /// Adds a migrated plan's legacy view to a snapshot document: `payload.migrated_from` and each
    /// task's `legacy`. Snapshots of plans that were not migrated are left exactly as they are.
    func withLegacy(_ snapshot: JSONValue) -> JSONValue {
        guard !migratedFrom.isEmpty || tasks.contains(where: { !$0.legacy.isEmpty }),
              var root = snapshot.objectValue, var payload = root["payload"]?.objectValue else { return snapshot }
        if !migratedFrom.isEmpty { payload["migrated_from"] = .object(migratedFrom) }
        if let list = payload["tasks_status"]?.arrayValue, list.count == tasks.count {
            payload["tasks_status"] = .array(zip(list, tasks).map { entry, t in
                guard !t.legacy.isEmpty, var o = entry.objectValue else { return entry }
                o["legacy"] = .object(t.legacy)
                return .object(o)
            })
        }
        root["payload"] = .object(payload)
        return .object(root)
    }
}
