/// The Validation Report written when a status is frozen (SPEC §7): JSON (hashed) and Markdown.
///
/// Everything in it is derived from the journal (no clock, no environment), so
/// `logbook report --check` can rebuild it at any later time and compare byte for byte.
public enum ValidationReport {
    public static let schemaID = "Logbook_ValidationReport_v1"

    /// Builds the report; `report_hash` is SHA-256 of the RFC 8785 form of the report without it.
    public static func build(plan: PlanDocument, state s: StatusState, stats: JournalStats, verify: VerifyReport,
                             checkpoint: String?) -> JSONValue {
        let tasks: [JSONValue] = s.tasks.map { t in
            let spec = s.plan[task: t.id]
            var inProgressMS: JSONValue = .null
            if let a = t.firstStartedTS.flatMap(Timestamp.parse), let b = t.completedTS.flatMap(Timestamp.parse) {
                inProgressMS = JSONValue(Int(b - a))
            }
            return [
                "task_id": .string(t.id), "title": .string(spec?.title ?? ""), "status": .string(t.status.rawValue),
                "percent_complete": JSONValue(t.effectivePercent),
                "attempts": JSONValue(t.attempts + (t.firstStartedTS == nil ? 0 : 1)),
                "retries_used": JSONValue(t.attempts), "max_retries": JSONValue(spec?.maxRetries ?? 0),
                "latest_tests": .object(t.tests), "time_in_progress_ms": inProgressMS,
                "assigned_agent_persona": .string(spec?.assignedPersona ?? ""),
                "written_by": .array((stats.taskPersonas[t.id] ?? []).map { .string($0) }),
                "failures": JSONValue(t.failureDetails.count), "last_event_seq": JSONValue(t.lastSeq ?? 0),
            ]
        }
        func counts(_ d: [String: Int]) -> JSONValue {
            .object(JSONObject(d.sorted { $0.key < $1.key }.map { ($0.key, JSONValue($0.value)) }))
        }
        var verifyJSON: JSONObject = ["ok": .bool(verify.ok), "events": JSONValue(verify.events),
                                      "last_seq": JSONValue(verify.lastSeq), "head_hash": JSONValue(verify.head?.description)]
        if let f = verify.failure { verifyJSON["failure"] = .string(f.description) }
        let v = stats.validation
        var report: JSONObject = [
            "schema": .string(schemaID),
            "plan_id": .string(s.plan.id),
            "plan_digest": .string(plan.digest.description),
            "status_id": .string("exec_status_\(s.gPlan)"),
            "lifecycle_status": .string(s.lifecycle.rawValue),
            "verdict": JSONValue(s.verdict),
            "validation_note": v["note"] ?? .null,
            "override_reason": v["override_reason"] ?? .null,
            "criteria": v["criteria"] ?? .array([]),
            "overall_completion_percentage": .number(s.completion),
            "tasks": .array(tasks),
            "blockers_history": .array(stats.blockers),
            "achievements": .array(s.achievements),
            "event_counts_by_type": counts(stats.byType),
            "event_counts_by_persona": counts(stats.byPersona),
            "unsigned_events": JSONValue(stats.unsigned),
            "frozen_at_seq": s.frozenSeq.map { JSONValue($0) } ?? .null,
            "frozen_at_ts": JSONValue(s.lastTS),
            "final_head_hash": JSONValue(s.head?.description),
            "final_seq": JSONValue(s.seq),
            "checkpoint": JSONValue(checkpoint),
            "verify": .object(verifyJSON),
        ]
        report["report_hash"] = .string(Digest256.canonical(.object(report)).description)
        return .object(report)
    }

    /// Whether `report` carries the hash of its own content.
    public static func hashIsValid(_ report: JSONValue) -> Bool {
        guard var o = report.objectValue, let h = o["report_hash"]?.stringValue else { return false }
        o["report_hash"] = nil
        return Digest256.canonical(.object(o)).description == h
    }

    /// The report for people. Every string from the report goes through
    /// ``SafeText/markdown(_:)``: control characters escaped, Markdown made literal.
    public static func markdown(_ r: JSONValue) -> String {
        func s(_ v: JSONValue?) -> String {
            guard let v else { return "" }
            switch v {
            case .string(let x): return SafeText.markdown(x)
            case .null: return "—"
            default: return CanonicalJSON.string(v)
            }
        }
        var md = "# Validation Report — plan \(s(r["plan_id"]))\n\n"
        md += "| | |\n|---|---|\n"
        md += "| Verdict | **\(s(r["verdict"]))** |\n"
        md += "| Lifecycle | \(s(r["lifecycle_status"])) |\n"
        md += "| Completion | \(s(r["overall_completion_percentage"])) % |\n"
        md += "| Plan digest | `\(s(r["plan_digest"]))` |\n"
        md += "| Frozen at | seq \(s(r["frozen_at_seq"])), \(s(r["frozen_at_ts"])) |\n"
        md += "| Final head hash | `\(s(r["final_head_hash"]))` |\n"
        md += "| Verify | \(r["verify"]?["ok"]?.boolValue == true ? "passed" : "FAILED"), \(s(r["verify"]?["events"])) events, \(s(r["unsigned_events"])) unsigned |\n"
        if let note = r["validation_note"]?.stringValue { md += "| Note | \(s(.string(note))) |\n" }
        if let o = r["override_reason"]?.stringValue { md += "| Override | \(s(.string(o))) |\n" }
        md += "| Report hash | `\(s(r["report_hash"]))` |\n\n"
        md += "## Criteria\n\n| criterion | expected | actual | pass |\n|---|---|---|---|\n"
        for c in r["criteria"]?.arrayValue ?? [] {
            md += "| \(s(c["name"])) | \(s(c["expected"])) | \(s(c["actual"])) | \(c["pass"]?.boolValue == true ? "✅" : "❌") |\n"
        }
        md += "\n## Tasks\n\n| task | status | attempts | retries | latest tests | time in progress | by |\n|---|---|---|---|---|---|---|\n"
        for t in r["tasks"]?.arrayValue ?? [] {
            let tests = (t["latest_tests"]?.objectValue ?? JSONObject()).map { "\($0.key): \(s($0.value["passed"]))✓ \(s($0.value["failed"]))✗" }.joined(separator: ", ")
            let ms = t["time_in_progress_ms"]?.intValue.map { String(format2(Double($0) / 1000)) + " s" } ?? "—"
            let by = (t["written_by"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", ")
            md += "| \(s(t["task_id"])) \(s(t["title"])) | \(s(t["status"])) | \(s(t["attempts"])) | \(s(t["retries_used"]))/\(s(t["max_retries"])) | \(tests.isEmpty ? "—" : tests) | \(ms) | \(by) |\n"
        }
        let blockers = r["blockers_history"]?.arrayValue ?? []
        md += "\n## Blockers\n\n"
        if blockers.isEmpty { md += "None.\n" } else {
            md += "| task | reason | blocked at | resolved at | resolution |\n|---|---|---|---|---|\n"
            for b in blockers { md += "| \(s(b["task_id"])) | \(s(b["reason"])) | seq \(s(b["blocked_seq"])) | \(b["resolved_seq"]?.isNull == false ? "seq " + s(b["resolved_seq"]) : "open") | \(s(b["resolution"])) |\n" }
        }
        let ach = r["achievements"]?.arrayValue ?? []
        md += "\n## Achievements\n\n"
        if ach.isEmpty { md += "None.\n" } else { for a in ach { md += "- \(s(a["summary"])) (\(s(a["task_id_ref"])), \(s(a["persona_id"])), seq \(s(a["seq"])))\n" } }
        md += "\n## Events\n\n| type | count |\n|---|---|\n"
        for (k, v) in r["event_counts_by_type"]?.objectValue ?? JSONObject() { md += "| \(k) | \(s(v)) |\n" }
        md += "\n| persona | events |\n|---|---|\n"
        for (k, v) in r["event_counts_by_persona"]?.objectValue ?? JSONObject() { md += "| \(k) | \(s(v)) |\n" }
        if let c = r["checkpoint"]?.stringValue { md += "\n## Checkpoint\n\n```\n\(c)```\n" }
        return md
    }

    static func format2(_ d: Double) -> String {
        let x = (d * 100).rounded() / 100
        return CanonicalJSON.formatNumber(x)
    }
}
