/// An execution plan file (`exec_plan_<g>.txt`) in the ratified HAIOS exec_plan v5.4 shape
/// (``ratified(locked:)`` writes every field of it; see PlanDocument+HAIOS.swift).
///
/// The document is kept whole, so fields Logbook does not interpret survive import and lock.
/// ``spec()`` validates it and extracts what the rules need; every problem names its JSON path.
public struct PlanDocument: Sendable, Equatable {
    public static let schemaID = "HybridAI_OS_ExecutionPlan_Payload_v5.4"
    public static let entityType = "EXECUTION_PLAN"
    public var json: JSONValue

    public init(json: JSONValue) { self.json = json }

    /// Parses plan bytes; `name` is used in error messages (a file name).
    public init(bytes: [UInt8], name: String) throws(LogbookError) {
        do { json = try JSONParser.parse(bytes) } catch {
            throw LogbookError(.badInput, "\(name) is not valid JSON: \(error)")
        }
    }

    public var payload: JSONObject { json["payload"]?.objectValue ?? JSONObject() }
    public var header: JSONObject { json["os_file_header"]?.objectValue ?? JSONObject() }
    public var planID: String? { payload["execution_plan_id"]?.stringValue }

    /// Whether the plan was approved: its definition is locked and immutable. ADR-010's
    /// `_tasks_list_immutable` says so; plans locked by Logbook before the ratified flags carry
    /// `_locked_plan_definition` instead (their digest binds that form, so it is still read).
    public var isLocked: Bool {
        payload["_tasks_list_immutable"]?.boolValue == true || payload["_locked_plan_definition"]?.boolValue == true
    }

    /// The plan digest: `sha256:` of the RFC 8785 form of the payload.
    public var digest: Digest256 { Digest256.canonical(.object(payload)) }

    /// A short digest per task (first 16 hex digits), so `verify` can name the edited task.
    public var taskDigests: JSONObject {
        var o = JSONObject()
        for t in payload["tasks"]?.arrayValue ?? [] {
            if let id = t["task_id"]?.stringValue { o[id] = .string(String(Digest256.canonical(t).hex.prefix(16))) }
        }
        return o
    }

    mutating func setPayload(_ p: JSONObject) {
        guard var root = json.objectValue else { return }
        root["payload"] = .object(p)
        json = .object(root)
    }

    public mutating func setHeader(_ h: JSONObject) {
        guard var root = json.objectValue else { return }
        root["os_file_header"] = .object(h)
        json = .object(root)
    }

    /// The same plan in the ratified v5.4 shape with every ADR-OS-010 lock flag true.
    public func locked() -> PlanDocument { ratified(locked: true) }

    /// Validates the plan and returns its rule-relevant parts.
    ///
    /// - Parameter personas: when given, every assigned persona must exist in it.
    /// - Throws: ``LogbookError`` `.invalidPlan` listing every problem with its JSON path.
    public func spec(personas: PersonaRegistry? = nil) throws(LogbookError) -> PlanSpec {
        var problems: [(String, String)] = []
        func problem(_ path: String, _ msg: String) { problems.append((path, msg)) }

        guard let root = json.objectValue else {
            throw LogbookError(.invalidPlan, "a plan is a JSON object with os_file_header and payload, found \(json.kindName)", path: "$")
        }
        if let h = root["os_file_header"], h.objectValue == nil { problem("os_file_header", "expected an object") }
        guard let payload = root["payload"]?.objectValue else {
            throw LogbookError(.invalidPlan, "missing the payload object", path: "payload")
        }
        let planID = payload["execution_plan_id"]?.stringValue ?? ""
        if payload["execution_plan_id"] == nil { problem("payload.execution_plan_id", "missing") }
        else if !Identifier.isValid(planID) { problem("payload.execution_plan_id", "\"\(planID.debugDescriptionEscaped)\" is not a valid id (A–Z a–z 0–9 _ . -, 1–128)") }
        if let d = payload["plan_definition"], d.objectValue == nil { problem("payload.plan_definition", "expected an object") }

        var tasks: [TaskSpec] = []
        var firstIndex: [String: Int] = [:]
        let list = payload["tasks"]
        if list == nil { problem("payload.tasks", "missing (a plan needs a tasks array)") }
        else if list?.arrayValue == nil { problem("payload.tasks", "expected an array") }
        for (i, t) in (list?.arrayValue ?? []).enumerated() {
            let p = "payload.tasks[\(i)]"
            guard let o = t.objectValue else { problem(p, "expected a task object"); continue }
            let id = o["task_id"]?.stringValue ?? ""
            if o["task_id"] == nil { problem("\(p).task_id", "missing") }
            else if !Identifier.isValid(id) { problem("\(p).task_id", "\"\(id.debugDescriptionEscaped)\" is not a valid id") }
            else if let j = firstIndex[id] { problem("\(p).task_id", "duplicate task id \(id) (first at payload.tasks[\(j)])") }
            else { firstIndex[id] = i }
            let title = o["title"]?.stringValue ?? ""
            if let tt = o["title"], tt.stringValue == nil { problem("\(p).title", "expected a string") }
            let assignee = o["assigned_agent_persona"]?.stringValue ?? ""
            if o["assigned_agent_persona"] == nil { problem("\(p).assigned_agent_persona", "missing") }
            else if !Identifier.isValid(assignee) { problem("\(p).assigned_agent_persona", "expected a persona id") }
            else if let personas, personas[assignee] == nil { problem("\(p).assigned_agent_persona", "persona \(assignee) is not in personas.json") }
            var archetypes: [String] = []
            if let a = o["authorized_agent_archetypes"] {
                if let arr = a.arrayValue {
                    for (k, x) in arr.enumerated() {
                        if let s = x.stringValue, Identifier.isValid(s) { archetypes.append(s) }
                        else { problem("\(p).authorized_agent_archetypes[\(k)]", "expected an archetype id") }
                    }
                } else { problem("\(p).authorized_agent_archetypes", "expected an array") }
            }
            var maxRetries = 0
            if let m = o["max_retries"] {
                if let n = m.intValue, n >= 0 { maxRetries = n } else { problem("\(p).max_retries", "expected a whole number ≥ 0, found \(CanonicalJSON.string(m).prefix(20))") }
            }
            var deps: [String] = []
            if let d = o["dependencies"] {
                if let arr = d.arrayValue {
                    for (k, x) in arr.enumerated() {
                        if let s = x.stringValue { deps.append(s) } else { problem("\(p).dependencies[\(k)]", "expected a task id") }
                    }
                } else { problem("\(p).dependencies", "expected an array") }
            }
            tasks.append(TaskSpec(id: id, title: title, assignedPersona: assignee, authorizedArchetypes: archetypes,
                                  maxRetries: maxRetries, dependencies: deps,
                                  criticality: o["criticality"]?.stringValue.map { $0.uppercased() } ?? "MEDIUM"))
        }
        for (i, t) in tasks.enumerated() {
            for (k, d) in t.dependencies.enumerated() {
                if firstIndex[d] == nil { problem("payload.tasks[\(i)].dependencies[\(k)]", "unknown task \(d)") }
                else if d == t.id { problem("payload.tasks[\(i)].dependencies[\(k)]", "task \(d) depends on itself") }
            }
        }
        if problems.isEmpty, let cycle = PlanDocument.findCycle(tasks) {
            let i = firstIndex[cycle[0]] ?? 0
            problem("payload.tasks[\(i)].dependencies", "dependency cycle: \(cycle.joined(separator: " → "))")
        }
        if !problems.isEmpty {
            let list = problems.map { "\($0.0): \($0.1)" }
            let msg = problems.count == 1 ? "invalid plan: \(problems[0].1)"
                : "invalid plan, \(problems.count) problems: " + list.joined(separator: "; ")
            throw LogbookError(.invalidPlan, msg, plan: planID.isEmpty ? nil : planID, path: problems[0].0)
        }
        return PlanSpec(id: planID, tasks: tasks)
    }

    /// A dependency cycle as a list of task ids (first repeated at the end), or nil.
    static func findCycle(_ tasks: [TaskSpec]) -> [String]? {
        let deps = Dictionary(tasks.map { ($0.id, $0.dependencies) }, uniquingKeysWith: { a, _ in a })
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        var stack: [String] = []
        func visit(_ id: String) -> [String]? {
            if state[id] == 2 { return nil }
            if state[id] == 1 {
                let start = stack.firstIndex(of: id)!
                return Array(stack[start...]) + [id]
            }
            state[id] = 1
            stack.append(id)
            for d in deps[id] ?? [] { if let c = visit(d) { return c } }
            stack.removeLast()
            state[id] = 2
            return nil
        }
        for t in tasks { if let c = visit(t.id) { return c } }
        return nil
    }
}
