import LogbookCore
import LogbookEngine

/// One task as `task list --json` and `task show --json` print it: the same members with the
/// same values in both, so a supervisor can see who went quiet without reading the journal.
///
/// ```json
/// {"task_id": "T2", "title": "…", "status": "IN_PROGRESS", "percent_complete": 40,
///  "assigned_agent_persona": "WORKER", "owner": "WORKER",
///  "dependencies": [{"task_id": "T1", "status": "DONE"}], "unmet_dependencies": [],
///  "open_blockers": [], "attempts": 0, "max_retries": 1,
///  "last_event_seq": 7, "last_event_ts": "2026-…Z", "last_event_persona": "WORKER"}
/// ```
///
/// `last_event_*` are null for a task no event has named yet. `owner` is the worker that last
/// reported on the task (normally the one that started it; a persona authorised by archetype
/// shows here), else the assignee. `open_blockers` holds the task's open `blocked` event
/// (reason, since_seq), if any.
enum TaskSummary {
    static func json(_ spec: TaskSpec, _ t: TaskState, state: StatusState, lastEventTS: String?) -> JSONValue {
        let deps: [JSONValue] = spec.dependencies.map { d in
            ["task_id": .string(d), "status": .string(state.task(d)?.status.rawValue ?? "UNKNOWN")]
        }
        let blockers: [JSONValue] = t.status == .blocked
            ? [["reason": JSONValue(t.blockReason), "since_seq": t.blockedSeq.map { JSONValue($0) } ?? .null]]
            : []
        return .object(JSONObject([
            ("task_id", .string(spec.id)), ("title", .string(spec.title)), ("status", .string(t.status.rawValue)),
            ("percent_complete", JSONValue(t.effectivePercent)), ("assigned_agent_persona", .string(spec.assignedPersona)),
            ("authorized_archetypes", .array(spec.authorizedArchetypes.map { .string($0) })),
            ("owner", .string(owner(spec, t, state: state))),
            ("dependencies", .array(deps)),
            ("unmet_dependencies", .array(state.unmetDependencies(spec).map { .string($0.id) })),
            ("open_blockers", .array(blockers)),
            ("attempts", JSONValue(t.attempts)), ("max_retries", JSONValue(spec.maxRetries)),
            ("last_event_seq", t.lastSeq.map { JSONValue($0) } ?? .null),
            ("last_event_ts", JSONValue(lastEventTS)),
            ("last_event_persona", JSONValue(t.lastPersona)),
        ]))
    }

    /// The worker responsible for the task now.
    static func owner(_ spec: TaskSpec, _ t: TaskState, state: StatusState) -> String {
        if let p = t.lastPersona, let who = state.personas[p], who.role == .worker,
           p == spec.assignedPersona || spec.authorizedArchetypes.contains(who.archetype) {
            return p
        }
        return spec.assignedPersona
    }
}
