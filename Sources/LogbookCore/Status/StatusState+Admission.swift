/// The rules that turn a signed statement into the next event (docs/FORMAT.md §4): pure, next to
/// the reducer, so the writer under the journal's exclusion only calls this, places, hashes and
/// writes; and `verify` recomputes the same facts.
public enum Admission: Sendable, Equatable {
    /// Append this event (and line, with its newline) at the head.
    case append(Event, line: [UInt8])
    /// The statement is already in the journal at this seq (the same signed bytes, or the same
    /// idempotency key for the same request): return that event, write nothing.
    case repeatOf(Int)
}

extension StatusState {
    /// Checks `s` against this state (the exact head) and, unless it is a repeat, places it at
    /// seq + 1 with the store's time `ts` and workspace `g`, its facts derived here.
    ///
    /// `history` must know the events after `s.statement.seen.seq` up to the head (the writer
    /// reads them when it does not). The signature is not checked here (the writer checks it
    /// before, outside the lock); that it is present when the persona has a key, and with the
    /// key id the plan trusts, is.
    ///
    /// - Throws: ``LogbookError`` naming the rule: `plan`, `seen`, `idempotency`,
    ///   `expected_seq`, `size_limit`, `signature`, or any rule of ``check(_:)``.
    public func admit(_ s: SignedStatement, ts: String, g: Int, history: StatementHistory) throws(LogbookError) -> Admission {
        let st = s.statement
        let plan = self.plan.id
        guard st.plan == plan else {
            throw LogbookError(.badInput, "the statement is for plan \(st.plan), not \(plan)", plan: plan, task: st.task, rule: "plan")
        }
        try checkSeen(st, seq: seq + 1, hashAt: history.hash(at:))
        guard history.covers(after: st.seen.seq) else {
            throw LogbookError(.conflict, "the events after seq \(st.seen.seq) are not known to this writer; submit the statement again",
                               plan: plan, task: st.task, rule: "seen")
        }
        if let first = history.firstSeq(of: s.digest, after: st.seen.seq) { return .repeatOf(first) }
        if let t = st.task, self.plan[task: t] == nil {
            throw LogbookError(.notFound, "unknown task \(t) (the plan has \(self.plan.tasks.count) tasks)", plan: plan, task: t)
        }
        if let key = st.idempotencyKey {
            guard !key.isEmpty, key.utf8.count <= 256 else { throw LogbookError(.badInput, "idempotency key must be 1–256 bytes", plan: plan, task: st.task) }
            if let first = idempotency[key] {
                let fp = StatusState.fingerprint(type: st.type, task: st.task, persona: st.persona, data: st.data)
                guard fp == first.fingerprint else {
                    throw LogbookError(.conflict, "idempotency key \(key) was used by seq \(first.seq) for a different event", plan: plan, task: st.task, rule: "idempotency",
                                       facts: ["idempotency_key": .string(key), "actual_seq": JSONValue(first.seq)])
                }
                return .repeatOf(first.seq)
            }
        }
        if let expected = st.expectTaskSeq {
            guard let t = st.task, let ts = task(t) else {
                throw LogbookError(.notFound, "unknown task \(st.task ?? "(none)")", plan: plan, task: st.task)
            }
            let actual = ts.lastSeq ?? 0
            guard actual == expected else {
                throw LogbookError(.conflict, "the task moved: its last event is seq \(actual), the writer expected \(expected)", plan: plan, task: t, rule: "expected_seq",
                                   facts: ["actual_seq": JSONValue(actual), "expected_seq": JSONValue(expected)])
            }
        }
        if let t = st.traceID, !TraceID.isValid(t) {
            throw LogbookError(.badInput, "trace id must be 32 lowercase hex digits (W3C trace-context)", plan: plan, task: st.task)
        }
        let placed = Event.placing(s, seq: seq + 1, prev: head ?? planDigest ?? Digest256.of([]), ts: ts, g: g, facts: facts(for: st))
        let size = placed.line.count  // with its newline, as v1 counted
        guard size <= Event.maxLineBytes else {
            throw LogbookError(.badInput, "the event would be \(size) bytes; the limit is \(Event.maxLineBytes)", plan: plan, task: st.task, rule: "size_limit")
        }
        try check(placed.event)
        return .append(placed.event, line: placed.line)
    }

    /// Admits `s` and folds the event in (the writer's step under the lock).
    public mutating func admitAndFold(_ s: SignedStatement, ts: String, g: Int, history: StatementHistory) throws(LogbookError) -> Admission {
        let a = try admit(s, ts: ts, g: g, history: history)
        if case .append(let e, _) = a { fold(e) }
        return a
    }

    /// The `seen` rule: the head a statement saw precedes its seq, and is this journal's event at
    /// that seq (seq -1: the plan digest, before the genesis). `hashAt` gives this journal's
    /// hashes (nil: not known).
    public func checkSeen(_ st: Statement, seq: Int, hashAt: (Int) -> Digest256?) throws(LogbookError) {
        let s = st.seen
        guard s.seq < seq else {
            throw LogbookError(.conflict, "the statement saw seq \(s.seq), which is not before its own seq \(seq) (the head is seq \(seq - 1))",
                               plan: plan.id, task: st.task, rule: "seen", facts: ["seen_seq": JSONValue(s.seq), "head_seq": JSONValue(seq - 1)])
        }
        let actual = s.seq == -1 ? planDigest : hashAt(s.seq)
        guard let actual, actual == s.hash else {
            throw LogbookError(.conflict, "the statement saw seq \(s.seq) with hash \(s.hash), but this journal's seq \(s.seq) is \(actual?.description ?? "not known here") (a statement of another journal, or of a history that was changed)",
                               plan: plan.id, task: st.task, rule: "seen", facts: ["seen_seq": JSONValue(s.seq)])
        }
    }

    /// The facts the rules derive for `st` at the head of this state: `readiness` of a
    /// `started` (each dependency's status, whether all were done, whether an override let it
    /// start) and `attempt` of a `retried`. Written in RFC 8785 member order.
    public func facts(for st: Statement) -> JSONObject {
        guard let t = st.task, let spec = plan[task: t], let task = task(t) else { return JSONObject() }
        switch st.type {
        case .started:
            let deps: [JSONValue] = spec.dependencies.map { d in
                .object(JSONObject([("status", .string(self.task(d)?.status.rawValue ?? "UNKNOWN")), ("task_id", .string(d))]))
            }
            let ready = unmetDependencies(spec).isEmpty
            return JSONObject([("readiness", .object(JSONObject([
                ("dependencies", .array(deps)),
                ("override", .bool(!ready && task.pendingOverrides.contains("dependencies_done"))),
                ("ready", .bool(ready)),
            ])))])
        case .retried:
            return JSONObject([("attempt", .number(Double(task.attempts + 1)))])
        default:
            return JSONObject()
        }
    }
}
