extension StatusState {
    /// Folds an event that ``check(_:)`` accepted. Never fails.
    mutating func fold(_ e: Event) {
        seq = e.seq
        head = e.hash
        headPrev = e.prev
        lastTraceID = e.traceID
        lastTS = e.ts
        lastG = e.g
        eventCounts[e.type.rawValue, default: 0] += 1
        if e.sig == nil { unsignedCount += 1 }
        if let key = e.idempotencyKey {
            idempotency[key] = IdempotencyEntry(seq: e.seq, fingerprint: Self.fingerprint(type: e.type, task: e.task, persona: e.persona, data: e.data))
        }
        switch e.type {
        case .created, .migrated:
            planDigest = e.prev
            gPlan = e.data["g_plan"]?.intValue ?? e.g
            personas = (try? Self.parsePersonas(e.data["personas"])) ?? [:]
            allowUnsigned = e.data["allow_unsigned"]?.boolValue ?? false
            foldLegacy(e.data)
            // The genesis created every task's status entry: it is their last update until their own first event.
            for i in tasks.indices where tasks[i].lastSeq == nil {
                tasks[i].gLastUpdate = e.g
                tasks[i].lastPersona = e.persona
                tasks[i].lastArchetype = personas[e.persona]?.archetype
                tasks[i].lastHash = e.hash
            }
            return
        case .keyChanged:
            let d = e.data
            personas[d["persona"]!.stringValue!] = PersonaEntry(
                role: PersonaRole(rawValue: d["role"]!.stringValue!)!, archetype: d["archetype"]!.stringValue!,
                keyID: d["key_id"]?.stringValue)
            return
        case .validationStarted:
            lifecycle = .validating
            planOverrides = []
            return
        case .lockOverride where e.task == nil:
            if let r = e.data["rule"]?.stringValue, !planOverrides.contains(r) { planOverrides.append(r) }
            return
        case .validated:
            verdict = e.data["verdict"]?.stringValue
            return
        case .frozen:
            lifecycle = .frozen
            frozenSeq = e.seq
            return
        case .archived:
            lifecycle = .archived
            return
        case .achievement:
            achievements.append(.object(JSONObject([
                ("seq", .number(Double(e.seq))), ("task_id_ref", JSONValue(e.task)), ("persona_id", .string(e.persona)),
                ("summary", e.data["summary"] ?? .null), ("artifact", e.data["artifact"] ?? .null), ("ts", .string(e.ts)),
                ("g", .number(Double(e.g))), ("trace_id", JSONValue(e.traceID)),
            ])))
            if e.task == nil { return }
        default:
            break
        }
        guard let taskID = e.task, let i = plan.taskIndex[taskID] else { return }
        // A verdict judges the head it was given: a task event after it makes it stale (freeze
        // needs a new `validated`).
        if lifecycle == .validating { verdict = nil }
        var t = tasks[i]
        t.lastSeq = e.seq
        t.lastTS = e.ts
        t.lastType = e.type
        if t.leaseSeconds != nil, let owner = t.owner, owner == e.persona { t.leaseRenewedTS = e.ts }
        t.lastHash = e.hash
        t.gLastUpdate = e.g
        t.lastPersona = e.persona
        t.lastArchetype = personas[e.persona]?.archetype
        let before = t.status
        if case .success(let next) = TaskMachine.transition(from: t.status, on: e.type, blockedFrom: t.blockedFrom) {
            t.status = next
        }
        switch e.type {
        case .started:
            // The rules let it start (check(_:) ran): its dependencies were done, or a supervisor overrode them.
            let spec = plan.tasks[i]
            let deps: [JSONValue] = spec.dependencies.map { d in
                .object(JSONObject([("task_id", .string(d)), ("status", .string(task(d)?.status.rawValue ?? "UNKNOWN"))]))
            }
            t.readiness = .object(JSONObject([
                ("status", .string(unmetDependencies(spec).isEmpty ? "PASSED" : "OVERRIDDEN")),
                ("g_checked", .number(Double(e.g))), ("idempotency_key", JSONValue(e.idempotencyKey)),
                ("readiness_assessment_id_ref", .null), ("checked_at_seq", .number(Double(e.seq))), ("dependencies", .array(deps)),
            ]))
            t.pendingOverrides.removeAll { $0 == "dependencies_done" }
            if t.firstStartedTS == nil { t.firstStartedTS = e.ts }
            if t.owner == nil {
                t.owner = e.persona
                t.claimedSeq = e.seq
            }
            t.leaseSeconds = e.data["lease_seconds"]?.intValue
            t.leaseRenewedTS = t.leaseSeconds == nil ? nil : e.ts
        case .progress:
            t.percent = e.data["percent"]?.intValue ?? t.percent
        case .testResult:
            if let suite = e.data["suite"]?.stringValue {
                t.tests[suite] = .object(JSONObject([
                    ("passed", e.data["passed"] ?? 0), ("failed", e.data["failed"] ?? 0), ("skipped", e.data["skipped"] ?? 0),
                    ("artifact", e.data["artifact"] ?? .null), ("seq", .number(Double(e.seq))),
                ]))
            }
        case .blocked:
            t.blockedFrom = before
            t.blockReason = e.data["reason"]?.stringValue
            t.blockedSeq = e.seq
            t.blockedTS = e.ts
            t.blockedBy = e.persona
        case .unblocked:
            t.clearBlock()
        case .failed:
            t.failureDetails.append(.object(JSONObject([
                ("seq", .number(Double(e.seq))), ("attempt", .number(Double(t.attempts))), ("reason", e.data["reason"] ?? .null),
                ("details", e.data["details"] ?? .null), ("ts", .string(e.ts)),
            ])))
        case .retried:
            t.attempts += 1
            t.percent = 0
            t.retryLog.append(.object(JSONObject([
                ("seq", .number(Double(e.seq))), ("attempt", .number(Double(t.attempts))), ("reason", e.data["reason"] ?? .null), ("ts", .string(e.ts)),
            ])))
            t.pendingOverrides.removeAll { $0 == "max_retries" }
        case .done:
            t.percent = 100
            t.completedTS = e.ts
        case .reopened:
            t.completedTS = nil
            if t.leaseSeconds != nil { t.leaseRenewedTS = e.ts }  // the lease clock starts again
        case .waived:
            t.completedTS = e.ts
            t.clearBlock()
        case .requeued:
            t.requeueLog.append(.object(JSONObject([
                ("seq", .number(Double(e.seq))), ("reason", e.data["reason"] ?? .null), ("released_owner", JSONValue(t.owner)),
                ("from_status", .string(before.rawValue)), ("persona_id", .string(e.persona)), ("ts", .string(e.ts)),
            ])))
            t.owner = nil
            t.claimedSeq = nil
            t.leaseSeconds = nil
            t.leaseRenewedTS = nil
            t.percent = 0
            t.clearBlock()
        case .lockOverride:
            let rule = e.data["rule"]?.stringValue ?? ""
            if !t.pendingOverrides.contains(rule) { t.pendingOverrides.append(rule); t.pendingOverrides.sort() }
            t.overrideLog.append(.object(JSONObject([
                ("seq", .number(Double(e.seq))), ("rule", .string(rule)), ("reason", e.data["reason"] ?? .null),
                ("persona_id", .string(e.persona)), ("ts", .string(e.ts)),
            ])))
        default:
            break
        }
        tasks[i] = t
    }
}
