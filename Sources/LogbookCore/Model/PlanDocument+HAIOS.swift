/// The ratified HAIOS exec_plan v5.4 shape (HAIOS `docs/schema/`, 2025-06-09) and its
/// ADR-OS-010 lock flags.
///
/// Every field of the schema is written with its name and type: missing ones get their empty
/// value, a summary or notes given as one string becomes a one-element list (an empty string an
/// empty list). Each lock flag is `false` in a DRAFT and `true` once locked. Fields the schema does
/// not list (Logbook's `authorized_agent_archetypes`, anything a tool added) are kept as they are.
/// The flags of plans locked before the ratified ones (`_locked_plan_definition`,
/// `_list_immutable_tasks`, `_locked_task_definition`, `_list_immutable_dependencies`) are
/// dropped: the ratified flags replace them.
extension PlanDocument {
    /// The four references of `origin_and_context`, each with its `_<field>_locked` flag.
    public static let originFields = ["parent_initiative_plan_id_ref", "parent_initiative_stage_id_ref",
                                      "preceding_execution_plan_id_ref", "linked_issues_summary_id_ref"]
    /// The v5.4 task fields, in schema order (after `_locked_entry_definition`).
    public static let taskFields = ["task_id", "title", "description", "intent", "assigned_agent_persona", "max_retries",
                                    "context_loading_instructions", "inputs", "outputs", "execution_checklist",
                                    "dependencies", "criticality", "notes"]
    /// Every lock flag the ratified schema defines, by where it sits.
    public static let planLockFlags = ["_plan_type_locked", "_tasks_list_immutable"]
    public static let definitionLockFlags = ["_goal_locked", "_scope_summary_list_immutable", "_exclusions_summary_list_immutable"]
    public static let originLockFlags = originFields.map { "_\($0)_locked" }
    public static let taskLockFlag = "_locked_entry_definition"
    /// Lock flags Logbook wrote before the ratified ones.
    public static let legacyLockFlags: Set<String> = ["_locked_plan_definition", "_list_immutable_tasks",
                                                      "_locked_task_definition", "_list_immutable_dependencies"]
    /// Every lock flag, old and ratified, at any level.
    public static var allLockFlags: Set<String> {
        legacyLockFlags.union(planLockFlags).union(definitionLockFlags).union(originLockFlags).union([taskLockFlag])
    }
    /// The plan type of a plan that names none (`logbook plan new --type` sets another).
    public static let defaultPlanType = "CONSTRUCT"
    public static let defaultCriticality = "MEDIUM"

    /// The plan in the ratified shape with every lock flag set to `locked`; the header's
    /// `entity_type` and `schema_definition_id_ref` say so (the header is not in the digest).
    ///
    /// Values of the wrong type are left as they are (``draft()`` refuses them at import); so a
    /// plan file that was locked before keeps whatever it holds.
    public func ratified(locked: Bool) -> PlanDocument {
        guard json["payload"]?.objectValue != nil else { return self }  // spec() names what is missing
        var copy = self
        var p = payload
        for f in Self.legacyLockFlags { p[f] = nil }
        let flag = JSONValue.bool(locked)
        func stringList(_ v: JSONValue?) -> JSONValue {
            switch v {
            case nil, .null?: return .array([])
            case .string(let s)?: return .array(s.isEmpty ? [] : [.string(s)])
            case let x?: return x
            }
        }
        var out = JSONObject()
        out["execution_plan_id"] = p["execution_plan_id"] ?? ""
        out["plan_type"] = p["plan_type"] ?? .string(Self.defaultPlanType)
        out["_plan_type_locked"] = flag
        out["final_execution_status"] = p["final_execution_status"] ?? .null
        out["final_validation_status"] = p["final_validation_status"] ?? .null

        var origin = p["origin_and_context"]?.objectValue ?? JSONObject()
        if p["origin_and_context"]?.objectValue != nil || p["origin_and_context"] == nil || p["origin_and_context"]?.isNull == true {
            for f in Self.originFields {
                origin[f] = origin[f] ?? .null
                origin["_\(f)_locked"] = flag
            }
            out["origin_and_context"] = .object(origin)
        } else {
            out["origin_and_context"] = p["origin_and_context"]!
        }

        if let d = p["plan_definition"]?.objectValue ?? (p["plan_definition"] == nil ? JSONObject() : nil) {
            var def = d
            def["goal"] = d["goal"] ?? ""
            def["_goal_locked"] = flag
            def["scope_summary"] = stringList(d["scope_summary"])
            def["_scope_summary_list_immutable"] = flag
            def["exclusions_summary"] = stringList(d["exclusions_summary"])
            def["_exclusions_summary_list_immutable"] = flag
            out["plan_definition"] = .object(def)
        } else {
            out["plan_definition"] = p["plan_definition"]!
        }
        out["test_execution_metadata"] = p["test_execution_metadata"] ?? .null

        if let tasks = p["tasks"]?.arrayValue {
            out["tasks"] = .array(tasks.map { t in
                guard let o = t.objectValue else { return t }
                var task = JSONObject()
                task[Self.taskLockFlag] = flag
                for f in Self.taskFields {
                    switch f {
                    case "title", "description", "intent": task[f] = o[f] ?? ""
                    case "max_retries": task[f] = o[f] ?? 0
                    case "criticality": task[f] = o[f] ?? .string(Self.defaultCriticality)
                    case "notes": task[f] = stringList(o[f])
                    case "context_loading_instructions", "inputs", "outputs", "execution_checklist", "dependencies":
                        task[f] = o[f] ?? .array([])
                    default: if let v = o[f] { task[f] = v }
                    }
                }
                for (k, v) in o where task[k] == nil && !Self.legacyLockFlags.contains(k) { task[k] = v }
                return .object(task)
            })
        } else if let t = p["tasks"] {
            out["tasks"] = t
        }
        out["_tasks_list_immutable"] = flag
        for (k, v) in p where out[k] == nil { out[k] = v }
        copy.setPayload(out)

        var h = header
        h["entity_type"] = .string(Self.entityType)
        h["schema_definition_id_ref"] = .string(Self.schemaID)
        if json["os_file_header"] == nil || json["os_file_header"]?.objectValue != nil { copy.setHeader(h) }
        return copy
    }

    /// The plan as a DRAFT to import: the ratified shape with every lock flag `false`, whatever
    /// flags the file carried (a plan approved elsewhere is approved here by `logbook plan lock`,
    /// which sets the flags and binds the digest).
    ///
    /// - Throws: `.invalidPlan` naming the JSON path of every ratified field of the wrong type.
    public func draft() throws(LogbookError) -> PlanDocument {
        var problems: [(String, String)] = []
        let p = payload
        func expect(_ path: String, _ v: JSONValue?, _ what: String, _ ok: (JSONValue) -> Bool) {
            if let v, !ok(v) { problems.append((path, "expected \(what), found \(v.kindName)")) }
        }
        let isString: (JSONValue) -> Bool = { $0.stringValue != nil }
        let isStringOrNull: (JSONValue) -> Bool = { $0.stringValue != nil || $0.isNull }
        let isArray: (JSONValue) -> Bool = { $0.arrayValue != nil }
        let isStringList: (JSONValue) -> Bool = { v in
            v.stringValue != nil || v.isNull || (v.arrayValue?.allSatisfy { $0.stringValue != nil } ?? false)
        }
        expect("payload.plan_type", p["plan_type"], "a string", isString)
        expect("payload.final_execution_status", p["final_execution_status"], "a string or null", isStringOrNull)
        expect("payload.final_validation_status", p["final_validation_status"], "a string or null", isStringOrNull)
        expect("payload.origin_and_context", p["origin_and_context"], "an object") { $0.objectValue != nil || $0.isNull }
        for f in Self.originFields {
            expect("payload.origin_and_context.\(f)", p["origin_and_context"]?.objectValue?[f], "a string or null", isStringOrNull)
        }
        expect("payload.test_execution_metadata", p["test_execution_metadata"], "an object or null") { $0.objectValue != nil || $0.isNull }
        if let d = p["plan_definition"]?.objectValue {
            expect("payload.plan_definition.goal", d["goal"], "a string", isString)
            expect("payload.plan_definition.scope_summary", d["scope_summary"], "a list of strings", isStringList)
            expect("payload.plan_definition.exclusions_summary", d["exclusions_summary"], "a list of strings", isStringList)
        }
        for (i, t) in (p["tasks"]?.arrayValue ?? []).enumerated() {
            guard let o = t.objectValue else { continue }  // spec() names it
            for f in ["title", "description", "intent", "criticality"] { expect("payload.tasks[\(i)].\(f)", o[f], "a string", isString) }
            for f in ["context_loading_instructions", "inputs", "outputs", "execution_checklist"] {
                expect("payload.tasks[\(i)].\(f)", o[f], "a list", isArray)
            }
            expect("payload.tasks[\(i)].notes", o["notes"], "a list of strings", isStringList)
        }
        if !problems.isEmpty {
            let id = planID.flatMap { Identifier.isValid($0) ? $0 : nil }
            let msg = problems.count == 1 ? "invalid plan: \(problems[0].0): \(problems[0].1)"
                : "invalid plan, \(problems.count) problems: " + problems.map { "\($0.0): \($0.1)" }.joined(separator: "; ")
            throw LogbookError(.invalidPlan, msg, plan: id, path: problems[0].0)
        }
        return ratified(locked: false)
    }
}
