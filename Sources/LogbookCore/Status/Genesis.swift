/// The first event of a status journal: binds it to the locked plan and records the trust roots.
public enum Genesis {
    /// Builds the signed `created` event (seq 0) for a locked plan.
    ///
    /// `prev` is the plan digest, so the journal cannot be moved to another plan; `personas`
    /// records every persona's role, archetype, key id and full public key (base64 of the raw 32
    /// bytes) at lock time: the keys every later statement's signature is checked with, so a key
    /// swapped in `personas.json` later is caught by `verify` and the journal alone suffices to
    /// check signatures.
    public static func make(plan: PlanDocument, spec: PlanSpec, gPlan: Int, g: Int, registry: PersonaRegistry,
                            locker: String, signer: SigningKey?, ts: String, type: EventType = .created,
                            extra: JSONObject = JSONObject()) throws(LogbookError) -> Event {
        guard let who = registry[locker] else {
            throw LogbookError(.notFound, "persona \(locker) is not in personas.json", plan: spec.id)
        }
        guard who.role == .supervisor else {
            throw LogbookError(.forbidden, "only a supervisor may lock a plan; \(locker) is a worker", plan: spec.id, rule: "supervisor_only")
        }
        if who.publicKey != nil && signer == nil {
            throw LogbookError(.badSignature, "persona \(locker) has a key; its private key is needed to sign the genesis", plan: spec.id)
        }
        if let signer, let pk = who.publicKey, signer.publicKey != pk {
            throw LogbookError(.badSignature, "the private key given for \(locker) does not match its public key in personas.json", plan: spec.id)
        }
        var personas = JSONObject()
        for p in registry.sorted {
            personas[p.id] = .object(JSONObject([
                ("role", .string(p.role.rawValue)), ("archetype", .string(p.archetype)), ("key_id", JSONValue(p.keyID)),
                ("public_key", JSONValue(p.publicKey?.base64)),
            ]))
        }
        var data = JSONObject([
            ("plan_digest", .string(plan.digest.description)),
            ("g_plan", .number(Double(gPlan))),
            ("tasks", .array(spec.tasks.map { .string($0.id) })),
            ("task_digests", .object(plan.taskDigests)),
            ("personas", .object(personas)),
            ("allow_unsigned", .bool(registry.allowUnsigned)),
            ("overall_completion_percentage", 0),
        ])
        for (k, v) in extra { data[k] = v }
        // The genesis precedes every event: its statement has seen seq -1, the plan digest.
        return Event.make(seq: 0, prev: plan.digest, ts: ts, g: g, plan: spec.id, task: nil, persona: locker,
                          type: type, data: data, seen: Statement.Seen(seq: -1, hash: plan.digest), signer: signer)
    }
}
