import Foundation
import LogbookCore

/// What a supervisor asks of a plan's exact state at one instant: each task's claim and
/// liveness, who went quiet, what is blocked, what a persona may start next. Pure (a state and
/// a clock reading), so every front end (CLI, HTTP, MCP, the cockpit) shows the same thing.
///
/// **Stale** is derived here, never stored: an IN_PROGRESS or BLOCKED task whose owner's lease
/// ran out (the lease runs from the owner's last event on the task, which the journal records
/// with the store's time). A task without a lease is never flagged stale; `stale --older-than`
/// still lists it once it has been quiet that long.
public struct SupervisorView: Sendable {
    public let state: StatusState
    public let now: Date

    public init(state: StatusState, now: Date) {
        self.state = state
        self.now = now
    }

    // MARK: One task

    /// One task as `task list --json`, `task show --json` and `GET /v1/plans/{plan}/tasks` show it.
    ///
    /// `owner` is the persona whose `started` claimed the task (null until then, and again after
    /// a `requeued`); `last_event_*` are null before the task's first event; `lease` is null
    /// without one; `stale` is the derived flag. Durations ("quiet for", "blocked for") are not
    /// members here, so two reads of an unchanged task agree: the documents that list tasks by
    /// them (`stale`, `blocked`) add them, and every document carries its `now`.
    public func task(_ spec: TaskSpec) -> JSONValue {
        guard let t = state.task(spec.id) else { return .null }
        let deps: [JSONValue] = spec.dependencies.map { d in
            ["task_id": .string(d), "status": .string(state.task(d)?.status.rawValue ?? "UNKNOWN")]
        }
        let blocker = Self.blocker(t)
        return .object(JSONObject([
            ("task_id", .string(spec.id)), ("title", .string(spec.title)), ("status", .string(t.status.rawValue)),
            ("percent_complete", JSONValue(t.effectivePercent)), ("criticality", .string(spec.criticality)),
            ("assigned_agent_persona", .string(spec.assignedPersona)),
            ("authorized_archetypes", .array(spec.authorizedArchetypes.map { .string($0) })),
            ("owner", JSONValue(t.owner)),
            ("dependencies", .array(deps)),
            ("unmet_dependencies", .array(state.unmetDependencies(spec).map { .string($0.id) })),
            ("open_blockers", .array(blocker.isNull ? [] : [blocker])),
            ("blocker", blocker),
            ("attempts", JSONValue(t.attempts)), ("max_retries", JSONValue(spec.maxRetries)),
            ("requeues", JSONValue(t.requeueLog.count)),
            ("tests", ["passed": JSONValue(t.testsPassed), "failed": JSONValue(t.testsFailed)]),
            ("last_event_seq", t.lastSeq.map { JSONValue($0) } ?? .null),
            ("last_event_ts", JSONValue(t.lastTS)),
            ("last_event_type", JSONValue(t.lastType?.rawValue)),
            ("last_event_persona", t.lastSeq == nil ? .null : JSONValue(t.lastPersona)),
            ("lease", Self.lease(t)),
            ("stale", .bool(t.isStale(at: now))),
        ]))
    }

    static func blocker(_ t: TaskState) -> JSONValue {
        guard t.status == .blocked else { return .null }
        return .object(JSONObject([
            ("reason", JSONValue(t.blockReason)), ("persona_id", JSONValue(t.blockedBy)),
            ("since_seq", t.blockedSeq.map { JSONValue($0) } ?? .null), ("since_ts", JSONValue(t.blockedTS)),
        ]))
    }

    static func lease(_ t: TaskState) -> JSONValue {
        guard let s = t.leaseSeconds else { return .null }
        return .object(JSONObject([
            ("seconds", JSONValue(s)), ("renewed_ts", JSONValue(t.leaseRenewedTS)),
            ("expires_ts", JSONValue(t.leaseExpiry.map(Timestamp.string))),
        ]))
    }

    /// Seconds to the millisecond.
    static func rounded(_ s: Double) -> Double { (s * 1000).rounded() / 1000 }

    /// Every task, and when the view was taken: what `GET /v1/plans/{plan}/tasks` returns.
    public var document: JSONValue {
        .object(JSONObject([
            ("plan_id", .string(state.plan.id)), ("lifecycle", .string(state.lifecycle.rawValue)),
            ("head_seq", JSONValue(state.seq)), ("head_ts", JSONValue(state.lastTS)), ("now", .string(Timestamp.string(now))),
            ("stale", JSONValue(staleCount)),
            ("tasks", .array(state.plan.tasks.map(task))),
        ]))
    }

    // MARK: Who went quiet

    /// IN_PROGRESS tasks with no event for `olderThan` seconds, and every task whose lease ran
    /// out (also BLOCKED ones): the quietest first.
    public func stale(olderThan: Double) -> [TaskSpec] {
        // Each task's quiet time once (it parses a timestamp), not in every comparison of the sort.
        let listed = state.plan.tasks.compactMap { spec -> (spec: TaskSpec, quiet: Double)? in
            guard let t = state.task(spec.id) else { return nil }
            let quiet = t.quietSeconds(at: now) ?? 0
            return t.isStale(at: now) || (t.status == .inProgress && quiet >= olderThan) ? (spec, quiet) : nil
        }
        return listed.sorted { $0.quiet > $1.quiet }.map(\.spec)
    }

    /// How many tasks are flagged stale now (lease run out).
    public var staleCount: Int { state.tasks.filter { $0.isStale(at: now) }.count }

    /// `logbook stale --json`: the view's instant, the threshold, and each listed task.
    public func staleDocument(olderThan: Double) -> JSONValue {
        .object(JSONObject([
            ("plan_id", .string(state.plan.id)), ("now", .string(Timestamp.string(now))),
            ("older_than_seconds", .number(olderThan)),
            ("tasks", .array(stale(olderThan: olderThan).map { spec in
                with(task(spec), "quiet_seconds", state.task(spec.id)?.quietSeconds(at: now).map { .number(Self.rounded($0)) } ?? .null)
            })),
        ]))
    }

    // MARK: Blocked

    /// Open blockers, the longest-standing first.
    public func blocked() -> [TaskSpec] {
        state.plan.tasks.filter { state.task($0.id)?.status == .blocked }
            .sorted { (state.task($0.id)?.blockedSeq ?? 0) < (state.task($1.id)?.blockedSeq ?? 0) }
    }

    public var blockedDocument: JSONValue {
        .object(JSONObject([
            ("plan_id", .string(state.plan.id)), ("now", .string(Timestamp.string(now))),
            ("tasks", .array(blocked().map { spec in
                with(task(spec), "blocked_seconds", state.task(spec.id)?.blockedTS.flatMap(Timestamp.date)
                    .map { .number(Self.rounded(max(0, now.timeIntervalSince($0)))) } ?? .null)
            })),
        ]))
    }

    // MARK: What a persona may start

    /// The tasks `persona` may start now: PENDING, every dependency DONE or WAIVED, assigned to
    /// it or to its archetype, not claimed by someone else, in a plan that accepts work; the most
    /// critical first (criticality, then how many tasks wait on it, then plan order).
    public func next(persona: String) -> [TaskSpec] {
        guard state.lifecycle == .active, let who = state.personas[persona] else { return [] }
        let waiting = downstreamCounts
        let ready = state.plan.tasks.enumerated().filter { _, spec in
            guard let t = state.task(spec.id), t.status == .pending, state.unmetDependencies(spec).isEmpty else { return false }
            guard spec.assignedPersona == persona || spec.authorizedArchetypes.contains(who.archetype) else { return false }
            return t.owner == nil || t.owner == persona
        }
        return ready.sorted { a, b in
            let ra = Self.criticalityRank(a.element.criticality), rb = Self.criticalityRank(b.element.criticality)
            if ra != rb { return ra < rb }
            let wa = waiting[a.element.id] ?? 0, wb = waiting[b.element.id] ?? 0
            if wa != wb { return wa > wb }
            return a.offset < b.offset
        }.map(\.element)
    }

    public func nextDocument(persona: String) -> JSONValue {
        let waiting = downstreamCounts
        return .object(JSONObject([
            ("plan_id", .string(state.plan.id)), ("persona", .string(persona)), ("lifecycle", .string(state.lifecycle.rawValue)),
            ("tasks", .array(next(persona: persona).map { spec in with(task(spec), "waiting_on_it", JSONValue(waiting[spec.id] ?? 0)) })),
        ]))
    }

    /// `value` with one more member.
    func with(_ value: JSONValue, _ key: String, _ member: JSONValue) -> JSONValue {
        guard case .object(var o) = value else { return value }
        o[key] = member
        return .object(o)
    }

    static func criticalityRank(_ c: String) -> Int {
        switch c {
        case "CRITICAL": 0
        case "HIGH": 1
        case "MEDIUM": 2
        case "LOW": 3
        default: 4
        }
    }

    /// For each task, how many tasks depend on it directly or through others.
    var downstreamCounts: [String: Int] {
        var dependents: [String: [String]] = [:]
        for spec in state.plan.tasks { for d in spec.dependencies { dependents[d, default: []].append(spec.id) } }
        var out: [String: Int] = [:]
        for spec in state.plan.tasks {
            var seen: Set<String> = []
            var stack = dependents[spec.id] ?? []
            while let x = stack.popLast() {
                guard seen.insert(x).inserted else { continue }
                stack += dependents[x] ?? []
            }
            out[spec.id] = seen.count
        }
        return out
    }

    // MARK: Counts for plan lists

    /// Tasks by status (every status, zeros included).
    public var taskCounts: JSONValue {
        var o = JSONObject()
        for s in TaskStatus.allCases { o[s.rawValue] = JSONValue(state.tasks.filter { $0.status == s }.count) }
        return .object(o)
    }
}
