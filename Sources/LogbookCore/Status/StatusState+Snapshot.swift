/// The snapshot file `exec_status_<g>.txt`: the ratified HAIOS exec_status v1.0 plus the journal head.
///
/// Every field of the ratified schema is written with its name and type; Logbook's richer data
/// (per-suite tests, the failure history, lifecycle, counts, the `journal` object) are extension
/// fields with names of their own (docs/FORMAT.md §7 lists which is which).
///
/// It is derived: ``snapshot()`` of the state at seq N is the same bytes however the state was
/// reached and whatever backend holds the journal (its `journal` section records seq and head
/// hash, never a backend's position), and ``init(snapshot:plan:)`` reads it back exactly, so
/// readers can start from it and replay only the journal tail (``JournalStore/line(atSeq:hint:_:)``
/// finds where that tail starts).
extension StatusState {
    public static let snapshotSchemaID = "HybridAI_OS_ExecutionStatus_Payload_v1.0"
    /// The version of Logbook's additions to that schema (`journal.snapshot_format`; absent: 1).
    /// 2 (issue 12): claims, leases and liveness per task. A snapshot of another version is not
    /// read: the state is replayed from the journal and the next snapshot write replaces it.
    public static let snapshotFormat = 2

    /// Whether a parsed snapshot is of this version (schema and format), so it can be read.
    public static func isCurrentSnapshot(_ v: JSONValue?) -> Bool {
        v?["os_file_header"]?["schema_definition_id_ref"]?.stringValue == snapshotSchemaID
            && (v?["journal"]?["snapshot_format"]?.intValue ?? 1) == snapshotFormat
    }
    public static let snapshotEntityType = "EXECUTION_STATUS"

    /// `overall_status_summary.execution_status`: `DONE` once every task is DONE or WAIVED,
    /// `IN_PROGRESS` once any task left PENDING, else `PENDING`.
    public var executionStatus: String {
        if !tasks.isEmpty, tasks.allSatisfy({ $0.status.isComplete }) { return "DONE" }
        return tasks.contains { $0.status != .pending } ? "IN_PROGRESS" : "PENDING"
    }

    /// `overall_status_summary.validation_status`: the latest verdict (`PASS` → `VALIDATED_SUCCESS`,
    /// `PASS_WITH_REMEDIATION` → `VALIDATED_WITH_REMEDIATION`, `FAIL` → `VALIDATED_FAILURE`), else
    /// `VALIDATING` while validation runs, else `NOT_VALIDATED`.
    public var validationStatus: String {
        switch verdict {
        case "PASS"?: return "VALIDATED_SUCCESS"
        case "PASS_WITH_REMEDIATION"?: return "VALIDATED_WITH_REMEDIATION"
        case "FAIL"?: return "VALIDATED_FAILURE"
        case let v?: return v
        case nil: return lifecycle == .validating ? "VALIDATING" : "NOT_VALIDATED"
        }
    }

    /// `readiness_check` of a task that has not started: nothing was checked.
    static let notChecked: JSONValue = .object(JSONObject([
        ("status", "NOT_CHECKED"), ("g_checked", .null), ("idempotency_key", .null), ("readiness_assessment_id_ref", .null),
    ]))

    /// The task's most recent test result (highest seq; between equal seqs, as a migrated plan's
    /// results have, the greatest suite name), with its suite and PASSED/FAILED; null if none.
    static func latestTest(_ t: TaskState) -> JSONValue {
        var best: (suite: String, result: JSONObject, seq: Int)?
        for (suite, r) in t.tests {
            guard let o = r.objectValue else { continue }
            let s = o["seq"]?.intValue ?? 0
            if let b = best, (b.seq, b.suite) >= (s, suite) { continue }
            best = (suite, o, s)
        }
        guard let best else { return .null }
        var out = JSONObject([("suite", .string(best.suite)),
                              ("status", .string((best.result["failed"]?.intValue ?? 0) > 0 ? "FAILED" : "PASSED"))])
        for (k, v) in best.result { out[k] = v }
        return .object(out)
    }

    /// An achievement as `key_achievements_log` holds it (the state keeps the event's own names).
    static func achievementEntry(_ a: JSONValue) -> JSONValue {
        .object(JSONObject([
            ("_locked_entry_definition", true), ("g_event", a["g"] ?? .null), ("achievement_summary", a["summary"] ?? .null),
            ("linked_task_id", a["task_id_ref"] ?? .null), ("linked_artifact_id", a["artifact"] ?? .null),
            ("trace_id", a["trace_id"] ?? .null),
            ("seq", a["seq"] ?? .null), ("persona_id", a["persona_id"] ?? .null), ("ts", a["ts"] ?? .null),
        ]))
    }

    static func achievementState(_ a: JSONValue) -> JSONValue {
        .object(JSONObject([
            ("seq", a["seq"] ?? .null), ("task_id_ref", a["linked_task_id"] ?? .null), ("persona_id", a["persona_id"] ?? .null),
            ("summary", a["achievement_summary"] ?? .null), ("artifact", a["linked_artifact_id"] ?? .null), ("ts", a["ts"] ?? .null),
            ("g", a["g_event"] ?? .null), ("trace_id", a["trace_id"] ?? .null),
        ]))
    }

    /// The snapshot as it was before issue 10, when it recorded a file offset: the offset is no
    /// longer written (snapshot bytes are the same on every backend), so this is ``snapshot()``.
    @available(*, deprecated, renamed: "snapshot()", message: "the snapshot no longer records a cursor")
    public func snapshot(cursor: Int64) -> JSONValue { snapshot() }

    /// The snapshot document of this state.
    public func snapshot() -> JSONValue {
        func opt(_ s: String?) -> JSONValue { JSONValue(s) }
        func optInt(_ n: Int?) -> JSONValue { n.map { .number(Double($0)) } ?? .null }
        var counts = JSONObject()
        for s in TaskStatus.allCases { counts[s.rawValue] = .number(Double(count(s))) }
        let blocked = tasks.filter { $0.status == .blocked }
        let blockers: [JSONValue] = blocked.map { t in
            .object(JSONObject([("task_id_ref", .string(t.id)), ("reason", opt(t.blockReason)), ("since_seq", optInt(t.blockedSeq))]))
        }
        let blockerLines: [JSONValue] = blocked.map { t in
            .string("\(t.id): \(t.blockReason ?? "blocked")" + (t.blockedSeq.map { " (since seq \($0))" } ?? ""))
        }
        let taskList: [JSONValue] = tasks.map { t in
            .object(JSONObject([
                ("task_id_ref", .string(t.id)),
                ("status", .string(t.status.rawValue)),
                ("percent_complete", .number(Double(t.effectivePercent))),
                ("g_last_update", optInt(t.gLastUpdate)),
                ("last_updated_by_persona_id", opt(t.lastPersona)),
                ("last_updated_by_archetype", opt(t.lastArchetype)),
                ("signature_hash", opt(t.lastHash?.description)),
                ("readiness_check", t.readiness.isNull ? Self.notChecked : t.readiness),
                ("execution_log", .object(JSONObject([
                    ("failure_details", t.failureDetails.last ?? .null),
                    ("retry_attempts_log", .array(t.retryLog)),
                    ("lock_override_log", .array(t.overrideLog)),
                    ("failure_history", .array(t.failureDetails)),
                ]))),
                ("latest_test_status", Self.latestTest(t)),
                // Logbook extensions
                ("reported_percent", .number(Double(t.percent))),
                ("last_event_seq", optInt(t.lastSeq)),
                ("retry_attempts_used", .number(Double(t.attempts))),
                ("blocked_from", opt(t.blockedFrom?.rawValue)),
                ("blocker", t.status == .blocked ? .object(JSONObject([("reason", opt(t.blockReason)), ("since_seq", optInt(t.blockedSeq)),
                                                                         ("since_ts", opt(t.blockedTS)), ("persona_id", opt(t.blockedBy))])) : .null),
                ("last_event_ts", opt(t.lastTS)),
                ("last_event_type", opt(t.lastType?.rawValue)),
                ("owner", opt(t.owner)),
                ("claimed_at_seq", optInt(t.claimedSeq)),
                ("lease", t.leaseSeconds.map { s in .object(JSONObject([
                    ("seconds", .number(Double(s))), ("renewed_ts", opt(t.leaseRenewedTS)),
                    ("expires_ts", opt(t.leaseExpiry.map(Timestamp.string))),
                ])) } ?? .null),
                ("requeue_log", .array(t.requeueLog)),
                ("pending_overrides", .array(t.pendingOverrides.map { .string($0) })),
                ("first_started_ts", opt(t.firstStartedTS)),
                ("completed_ts", opt(t.completedTS)),
                ("test_results_by_suite", .object(t.tests)),
            ]))
        }
        // Dictionary keys, sorted: unique, so appended without the duplicate scan (which made a
        // snapshot quadratic in the number of idempotency keys).
        var personaObj = JSONObject()
        for (id, p) in personas.sorted(by: { $0.key < $1.key }) {
            personaObj.appendUnchecked(id, .object(JSONObject([("role", .string(p.role.rawValue)), ("archetype", .string(p.archetype)), ("key_id", opt(p.keyID))])))
        }
        var idem = JSONObject()
        for (k, v) in idempotency.sorted(by: { $0.key < $1.key }) {
            idem.appendUnchecked(k, .array([.number(Double(v.seq)), .string(v.fingerprint)]))
        }
        var typeCounts = JSONObject()
        for (k, v) in eventCounts.sorted(by: { $0.key < $1.key }) { typeCounts.appendUnchecked(k, .number(Double(v))) }
        let retries = tasks.reduce(0) { $0 + $1.attempts }
        return withLegacy(.object(JSONObject([
            ("os_file_header", .object(JSONObject([
                ("file_id", .string("exec_status_\(gPlan)")),
                ("entity_type", .string(Self.snapshotEntityType)),
                ("schema_definition_id_ref", .string(Self.snapshotSchemaID)),
                ("g_file_created", .number(Double(gPlan))),
                ("g_file_last_modified", .number(Double(lastG))),
                ("v_file_instance", .number(Double(seq + 1))),
            ]))),
            ("payload", .object(JSONObject([
                ("execution_plan_id_ref", .string(plan.id)),
                ("payload_hash_previous", opt(headPrev?.description)),
                ("payload_hash_current", opt(head?.description)),
                ("g_last_update", .number(Double(lastG))),
                ("last_mutation_trace_id", opt(lastTraceID)),
                ("partition_status", "CONSISTENT"),
                ("overall_status_summary", .object(JSONObject([
                    ("overall_completion_percentage", .number(completion)),
                    ("active_blockers_summary", .array(blockerLines)),
                    ("execution_status", .string(executionStatus)),
                    ("validation_status", .string(validationStatus)),
                    // Logbook extensions
                    ("total_tasks", .number(Double(tasks.count))),
                    ("task_counts", .object(counts)),
                    ("tests_passed", .number(Double(tasks.reduce(0) { $0 + $1.testsPassed }))),
                    ("tests_failed", .number(Double(tasks.reduce(0) { $0 + $1.testsFailed }))),
                    ("retries_total", .number(Double(retries))),
                    ("active_blockers", .array(blockers)),
                    ("lifecycle_status", .string(lifecycle.rawValue)),
                    ("validation_verdict", opt(verdict)),
                ]))),
                ("key_achievements_log", .array(achievements.map(Self.achievementEntry))),
                ("tasks_status", .array(taskList)),
                ("_tasks_status_list_immutable", true),
                // Logbook extensions
                ("plan_digest", opt(planDigest?.description)),
                ("last_update_ts", opt(lastTS)),
                ("lifecycle_status", .string(lifecycle.rawValue)),
                ("validation_verdict", opt(verdict)),
                ("frozen_at_seq", optInt(frozenSeq)),
            ]))),
            ("journal", .object(JSONObject([
                ("snapshot_format", .number(Double(Self.snapshotFormat))),
                ("seq", .number(Double(seq))),
                ("head_hash", opt(head?.description)),
                ("events_by_type", .object(typeCounts)),
                ("unsigned_events", .number(Double(unsignedCount))),
                ("personas", .object(personaObj)),
                ("allow_unsigned", .bool(allowUnsigned)),
                ("idempotency_keys", .object(idem)),
                ("plan_overrides", .array(planOverrides.map { .string($0) })),
            ]))),
        ])))
    }

    /// Reads a snapshot back (a `journal.cursor` member that snapshots before issue 10 carried is
    /// ignored).
    public init(snapshot v: JSONValue, plan: PlanSpec) throws(LogbookError) {
        func bad(_ what: String) -> LogbookError { LogbookError(.corrupt, "snapshot: \(what)", plan: plan.id) }
        guard let payload = v["payload"], let journal = v["journal"]?.objectValue,
              let header = v["os_file_header"] else { throw bad("missing payload, journal or header") }
        guard header["schema_definition_id_ref"]?.stringValue == Self.snapshotSchemaID else {
            throw bad("schema_definition_id_ref is not \(Self.snapshotSchemaID) (a snapshot of an earlier version; it is rebuilt from the journal)")
        }
        guard (journal["snapshot_format"]?.intValue ?? 1) == Self.snapshotFormat else {
            throw bad("journal.snapshot_format is \(journal["snapshot_format"]?.intValue ?? 1), not \(Self.snapshotFormat) (a snapshot of an earlier version; it is rebuilt from the journal)")
        }
        guard payload["execution_plan_id_ref"]?.stringValue == plan.id else { throw bad("it is for another plan") }
        self.init(plan: plan)
        gPlan = header["g_file_created"]?.intValue ?? 0
        planDigest = payload["plan_digest"]?.stringValue.flatMap(Digest256.init)
        lastG = payload["g_last_update"]?.intValue ?? 0
        lastTS = payload["last_update_ts"]?.stringValue
        lifecycle = payload["lifecycle_status"]?.stringValue.flatMap(Lifecycle.init(rawValue:)) ?? .active
        verdict = payload["validation_verdict"]?.stringValue
        frozenSeq = payload["frozen_at_seq"]?.intValue
        migratedFrom = payload["migrated_from"]?.objectValue ?? JSONObject()
        planOverrides = journal["plan_overrides"]?.arrayValue?.compactMap(\.stringValue) ?? []
        achievements = (payload["key_achievements_log"]?.arrayValue ?? []).map(Self.achievementState)
        guard let s = journal["seq"]?.intValue else { throw bad("journal.seq missing") }
        seq = s
        head = journal["head_hash"]?.stringValue.flatMap(Digest256.init)
        headPrev = payload["payload_hash_previous"]?.stringValue.flatMap(Digest256.init)
        lastTraceID = payload["last_mutation_trace_id"]?.stringValue
        for (k, n) in journal["events_by_type"]?.objectValue ?? JSONObject() { eventCounts[k] = n.intValue ?? 0 }
        unsignedCount = journal["unsigned_events"]?.intValue ?? 0
        allowUnsigned = journal["allow_unsigned"]?.boolValue ?? false
        personas = try Self.parsePersonas(journal["personas"])
        for (k, e) in journal["idempotency_keys"]?.objectValue ?? JSONObject() {
            guard let a = e.arrayValue, a.count == 2, let s = a[0].intValue, let f = a[1].stringValue else { throw bad("idempotency_keys.\(k)") }
            idempotency[k] = IdempotencyEntry(seq: s, fingerprint: f)
        }
        guard let list = payload["tasks_status"]?.arrayValue, list.count == plan.tasks.count else { throw bad("tasks_status does not match the plan") }
        for (i, tv) in list.enumerated() {
            guard tv["task_id_ref"]?.stringValue == plan.tasks[i].id,
                  let st = tv["status"]?.stringValue.flatMap(TaskStatus.init(rawValue:)) else { throw bad("tasks_status[\(i)]") }
            var t = TaskState(id: plan.tasks[i].id)
            t.status = st
            t.percent = tv["reported_percent"]?.intValue ?? 0
            t.gLastUpdate = tv["g_last_update"]?.intValue
            t.lastSeq = tv["last_event_seq"]?.intValue
            t.lastPersona = tv["last_updated_by_persona_id"]?.stringValue
            t.lastArchetype = tv["last_updated_by_archetype"]?.stringValue
            t.lastHash = tv["signature_hash"]?.stringValue.flatMap(Digest256.init)
            let readiness = tv["readiness_check"] ?? .null
            t.readiness = readiness["status"]?.stringValue == "NOT_CHECKED" ? .null : readiness
            t.attempts = tv["retry_attempts_used"]?.intValue ?? 0
            t.blockedFrom = tv["blocked_from"]?.stringValue.flatMap(TaskStatus.init(rawValue:))
            t.blockReason = tv["blocker"]?["reason"]?.stringValue
            t.blockedSeq = tv["blocker"]?["since_seq"]?.intValue
            t.blockedTS = tv["blocker"]?["since_ts"]?.stringValue
            t.blockedBy = tv["blocker"]?["persona_id"]?.stringValue
            t.lastTS = tv["last_event_ts"]?.stringValue
            t.lastType = tv["last_event_type"]?.stringValue.flatMap(EventType.init(rawValue:))
            t.owner = tv["owner"]?.stringValue
            t.claimedSeq = tv["claimed_at_seq"]?.intValue
            t.leaseSeconds = tv["lease"]?["seconds"]?.intValue
            t.leaseRenewedTS = tv["lease"]?["renewed_ts"]?.stringValue
            t.requeueLog = tv["requeue_log"]?.arrayValue ?? []
            t.pendingOverrides = tv["pending_overrides"]?.arrayValue?.compactMap(\.stringValue) ?? []
            t.firstStartedTS = tv["first_started_ts"]?.stringValue
            t.completedTS = tv["completed_ts"]?.stringValue
            let log = tv["execution_log"]
            t.failureDetails = log?["failure_history"]?.arrayValue ?? []
            t.retryLog = log?["retry_attempts_log"]?.arrayValue ?? []
            t.overrideLog = log?["lock_override_log"]?.arrayValue ?? []
            t.tests = tv["test_results_by_suite"]?.objectValue ?? JSONObject()
            t.legacy = tv["legacy"]?.objectValue ?? JSONObject()
            tasks[i] = t
        }
    }
}
