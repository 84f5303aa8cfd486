extension StatusState {
    /// Every rule of SPEC §4 for `e` against this state. Pure: throws or returns.
    public func check(_ e: Event) throws(LogbookError) {
        func refuse(_ code: LogbookError.Code, _ rule: String?, _ msg: String) -> LogbookError {
            LogbookError(code, msg, plan: plan.id, task: e.task, seq: nil, rule: rule)
        }
        guard e.plan == plan.id else { throw refuse(.badInput, nil, "event is for plan \(e.plan), not \(plan.id)") }
        guard e.seq == seq + 1 else { throw refuse(.conflict, "seq", "event seq \(e.seq) does not follow the head seq \(seq)") }
        if let head, e.prev != head { throw refuse(.conflict, "chain", "event prev \(e.prev) is not the head hash \(head)") }
        if lifecycle == .frozen || lifecycle == .archived, e.type != .archived {
            throw refuse(.refused, "frozen", lifecycle == .frozen
                ? "the status was frozen at seq \(frozenSeq.map(String.init) ?? "?"): it accepts no more events (only the `archived` lifecycle event)"
                : "the status is ARCHIVED (frozen at seq \(frozenSeq.map(String.init) ?? "?")): it accepts no more events")
        }

        if seq == -1 {
            guard e.type.isGenesis else { throw refuse(.refused, "genesis", "seq 0 must be a created or migrated event, not \(e.type.rawValue)") }
            try checkGenesis(e)
            return
        }
        guard !e.type.isGenesis else { throw refuse(.refused, "genesis", "\(e.type.rawValue) is only valid as the genesis event (seq 0)") }

        // Who is writing.
        guard let who = personas[e.persona] else {
            throw refuse(.forbidden, "persona", "persona \(e.persona) is not a persona of this plan")
        }
        try checkKey(e, who)
        // The store's part: the facts must be what the rules derive here (readiness, attempt).
        let expectedFacts = facts(for: e.stmt)
        guard CanonicalJSON.bytes(.object(e.facts)) == CanonicalJSON.bytes(.object(expectedFacts)) else {
            throw refuse(.refused, "facts", "the event records facts \(CanonicalJSON.string(.object(e.facts))), the rules derive \(CanonicalJSON.string(.object(expectedFacts)))")
        }

        if let key = e.idempotencyKey, let first = idempotency[key] {
            throw refuse(.conflict, "idempotency", "idempotency key \(key) was already used by seq \(first.seq)")
        }
        try EventData.check(e.type, e.data, plan: plan.id, task: e.task)

        switch e.type {
        case .keyChanged:
            guard e.task == nil else { throw refuse(.badInput, nil, "key_changed is a plan event and names no task") }
            try requireSupervisor(e, who)
            // v2: the new key itself is recorded, under the key id it hashes to.
            if let kid = e.data["key_id"]?.stringValue {
                guard let p = e.data["persona"]?.stringValue, let b = e.data["public_key"]?.stringValue.flatMap(Base64.decode),
                      let pk = PublicKey(persona: p, raw: b), pk.keyID == kid else {
                    throw refuse(.badInput, nil, "key_changed needs the base64 public_key whose key id is \(kid)")
                }
            }
            return
        case .validationStarted, .validated, .frozen, .archived:
            guard e.task == nil else { throw refuse(.badInput, nil, "\(e.type.rawValue) is a plan event and names no task") }
            try requireSupervisor(e, who)
            try checkLifecycle(e)
            return
        case .achievement where e.task == nil:
            return
        case .lockOverride where e.task == nil:
            try requireSupervisor(e, who)
            guard e.data["rule"]?.stringValue == "validation_criteria" else {
                throw refuse(.badInput, nil, "a plan-level lock_override takes rule \"validation_criteria\"")
            }
            guard lifecycle == .validating else { throw refuse(.refused, "lifecycle", "validation_criteria can be overridden only while VALIDATING") }
            return
        default:
            break
        }

        guard let taskID = e.task else { throw refuse(.badInput, nil, "\(e.type.rawValue) needs a task") }
        guard let spec = plan[task: taskID], let t = task(taskID) else {
            throw refuse(.notFound, nil, "unknown task \(taskID) (the plan has \(plan.tasks.count) tasks)")
        }
        switch TaskMachine.authority(e.type) {
        case .assignee:
            guard isAssignee(e.persona, who, spec) else {
                throw refuse(.forbidden, "assignee", "persona \(e.persona) may not write \(e.type.rawValue): the task is assigned to \(spec.assignedPersona)" + (spec.authorizedArchetypes.isEmpty ? "" : " (or archetypes \(spec.authorizedArchetypes.joined(separator: ", ")))"))
            }
        case .assigneeOrSupervisor:
            guard who.role == .supervisor || isAssignee(e.persona, who, spec) else {
                throw refuse(.forbidden, "assignee_or_supervisor", "persona \(e.persona) may not write \(e.type.rawValue): only \(spec.assignedPersona) or a supervisor")
            }
        case .anyPlanPersona:
            break
        case .supervisor:
            try requireSupervisor(e, who)
        }
        // A claimed task moves by its owner's hand (or a supervisor's) until a supervisor requeues it.
        if let owner = t.owner, owner != e.persona, who.role != .supervisor, TaskMachine.isOwnerBound(e.type), !t.status.isComplete {
            var refusal = refuse(.forbidden, "owner", "task \(taskID) is claimed by \(owner)" + (t.claimedSeq.map { " (started at seq \($0))" } ?? "")
                + "; only \(owner) or a supervisor may write \(e.type.rawValue) until a supervisor requeues it")
            refusal.facts["owner"] = .string(owner)
            throw refusal
        }
        if case .failure(let r) = TaskMachine.transition(from: t.status, on: e.type, blockedFrom: t.blockedFrom) {
            throw refuse(.refused, r.rule, r.message)
        }
        switch e.type {
        case .started:
            let unmetList = unmetDependencies(spec)
            if let unmet = unmetList.first, !t.pendingOverrides.contains("dependencies_done") {
                var e = refuse(.refused, "dependencies_done", "dependency \(unmet.id) is \(unmet.status.rawValue), not DONE")
                e.facts["unmet_dependencies"] = .array(unmetList.map { ["task_id": .string($0.id), "status": .string($0.status.rawValue)] })
                throw e
            }
        case .retried:
            // The attempt is a fact the store derives; an agent that states one must state that one.
            if let said = e.data["attempt"] {
                guard said.intValue == t.attempts + 1 else {
                    throw refuse(.badInput, "retry_attempt", "retry attempt must be \(t.attempts + 1), the statement says \(CanonicalJSON.string(said).prefix(24))")
                }
            }
            if t.attempts + 1 > spec.maxRetries, !t.pendingOverrides.contains("max_retries") {
                throw refuse(.refused, "max_retries", "retry \(t.attempts + 1) would exceed max_retries \(spec.maxRetries)")
            }
        default:
            break
        }
    }

    /// Dependencies of `spec` that are not DONE or WAIVED.
    public func unmetDependencies(_ spec: TaskSpec) -> [TaskState] {
        spec.dependencies.compactMap { task($0) }.filter { !$0.status.isComplete }
    }

    func isAssignee(_ persona: String, _ who: PersonaEntry, _ spec: TaskSpec) -> Bool {
        persona == spec.assignedPersona || spec.authorizedArchetypes.contains(who.archetype)
    }

    func requireSupervisor(_ e: Event, _ who: PersonaEntry) throws(LogbookError) {
        guard who.role == .supervisor else {
            throw LogbookError(.forbidden, "only a supervisor may write \(e.type.rawValue); \(e.persona) is a \(who.role.rawValue)",
                               plan: plan.id, task: e.task, rule: "supervisor_only")
        }
    }

    func checkKey(_ e: Event, _ who: PersonaEntry) throws(LogbookError) {
        if let expected = who.keyID {
            guard e.sig != nil, let kid = e.keyID else {
                throw LogbookError(.badSignature, "persona \(e.persona) has a key (\(expected)) and must sign; the event is unsigned",
                                   plan: plan.id, task: e.task, rule: "signature")
            }
            guard kid == expected else {
                throw LogbookError(.badSignature, "event is signed with key \(kid) but the plan trusts \(expected) for \(e.persona)",
                                   plan: plan.id, task: e.task, rule: "signature")
            }
        } else {
            guard e.sig == nil, e.keyID == nil else {
                throw LogbookError(.badSignature, "persona \(e.persona) has no key in this plan, yet the event carries a signature",
                                   plan: plan.id, task: e.task, rule: "signature")
            }
            guard allowUnsigned else {
                throw LogbookError(.badSignature, "persona \(e.persona) has no key and this workspace does not accept unsigned events",
                                   plan: plan.id, task: e.task, rule: "signature")
            }
        }
    }

    func checkGenesis(_ e: Event) throws(LogbookError) {
        let d = e.data
        func bad(_ msg: String) -> LogbookError { LogbookError(.corrupt, "genesis: \(msg)", plan: plan.id, rule: "genesis") }
        guard let pd = d["plan_digest"]?.stringValue, let digest = Digest256(pd) else { throw bad("data.plan_digest missing") }
        guard e.prev == digest else { throw bad("prev must equal the plan digest \(digest)") }
        guard let ids = d["tasks"]?.arrayValue?.compactMap(\.stringValue), ids == plan.tasks.map(\.id) else {
            throw bad("data.tasks does not list the plan's tasks in order")
        }
        let ps = try Self.parsePersonas(d["personas"])
        // v2 records each key itself: it must hash to the key id recorded beside it.
        for (id, entry) in d["personas"]?.objectValue ?? JSONObject() {
            guard let kid = entry["key_id"]?.stringValue else { continue }
            guard let b = entry["public_key"]?.stringValue.flatMap(Base64.decode), let pk = PublicKey(persona: id, raw: b), pk.keyID == kid else {
                throw bad("data.personas.\(id).public_key is not the key of \(kid)")
            }
        }
        guard let locker = ps[e.persona], locker.role == .supervisor else {
            throw bad("the genesis must be written by a supervisor of the plan; \(e.persona) is not one")
        }
        guard e.seen.seq == -1, e.seen.hash == digest else { throw bad("its statement must have seen seq -1 and the plan digest") }
        guard e.facts.isEmpty else { throw bad("the genesis records no facts") }
        let allow = d["allow_unsigned"]?.boolValue ?? false
        if let kid = locker.keyID {
            guard e.keyID == kid, e.sig != nil else { throw bad("the genesis must be signed with \(kid)") }
        } else if !allow || e.sig != nil {
            throw bad("the locker has no key and unsigned events are not allowed")
        }
        if e.type == .migrated { try checkLegacy(d) }
    }

    func checkLifecycle(_ e: Event) throws(LogbookError) {
        func refuse(_ msg: String) -> LogbookError { LogbookError(.refused, msg, plan: plan.id, rule: "lifecycle") }
        switch (e.type, lifecycle) {
        case (.validationStarted, .active), (.validationStarted, .validating): return
        case (.validated, .validating):
            try checkVerdict(e)
            return
        case (.frozen, .validating) where verdict != nil:
            guard e.data["head"]?.stringValue == head?.description else {
                throw refuse("frozen must record the head it freezes (\(head?.description ?? "none"))")
            }
            return
        case (.archived, .frozen): return
        case (.frozen, .validating) where (eventCounts[EventType.validated.rawValue] ?? 0) > 0:
            throw refuse("the verdict is stale: task events were recorded after the last `validated`; run `logbook validate` again before freezing")
        default:
            throw refuse("\(e.type.rawValue) is not allowed while the status is \(lifecycle.rawValue)" + (e.type == .frozen && verdict == nil ? " without a validated verdict" : ""))
        }
    }

    /// A verdict must carry the criteria the state supports; PASS against a failing criterion
    /// needs a `lock_override` (rule validation_criteria) recorded since validation started.
    func checkVerdict(_ e: Event) throws(LogbookError) {
        func refuse(_ rule: String, _ msg: String) -> LogbookError { LogbookError(.refused, msg, plan: plan.id, rule: rule) }
        let claimed = (e.data["criteria"]?.arrayValue ?? []).compactMap(Criterion.init(json:))
        for c in ValidationCriteria.fromState(self) {
            guard let k = claimed.first(where: { $0.name == c.name }) else {
                throw refuse("validation_criteria", "the verdict does not state criterion \(c.name)")
            }
            guard k.pass == c.pass else {
                throw refuse("validation_criteria", "criterion \(c.name) is \(c.pass ? "met" : "not met") (\(c.actual)), the verdict says otherwise")
            }
        }
        let verdict = e.data["verdict"]?.stringValue ?? ""
        if verdict == "PASS", claimed.contains(where: { !$0.pass }), !planOverrides.contains("validation_criteria") {
            let failing = claimed.filter { !$0.pass }.map(\.name).joined(separator: ", ")
            throw refuse("validation_criteria", "PASS against failing criteria (\(failing)) needs an override reason from the supervisor")
        }
    }

    static func parsePersonas(_ v: JSONValue?) throws(LogbookError) -> [String: PersonaEntry] {
        guard let o = v?.objectValue else { throw LogbookError(.corrupt, "genesis: data.personas missing", rule: "genesis") }
        var out: [String: PersonaEntry] = [:]
        for (id, entry) in o {
            guard let role = entry["role"]?.stringValue.flatMap(PersonaRole.init(rawValue:)),
                  let arch = entry["archetype"]?.stringValue
            else { throw LogbookError(.corrupt, "genesis: data.personas.\(id) is malformed", rule: "genesis") }
            out[id] = PersonaEntry(role: role, archetype: arch, keyID: entry["key_id"]?.stringValue)
        }
        return out
    }
}
