/// Splits a legacy plan that still carries live state into a clean HAIOS exec_plan v5.4 plan and
/// the live state it carried, verbatim, with the JSON path each value came from (SPEC §8).
///
/// Pure: bytes in, documents out. ``Workspace/migrate`` writes the results; `logbook migrate`
/// drives it. Two legacy shapes are read (see docs/MIGRATION.md for the full field table):
///
/// - **flat**: `plan_id`, plan-level `status`, `preceding_plan_id_ref`, `created_g`, `description`,
///   `tasks[]` with `task_id`, `status`, `description`, `execution_type`, `inputs`, `outputs`,
///   `execution_checklist[]` items with their own `status`;
/// - **HAIOS v5.x**: `os_file_header` + `payload` whose tasks carry live fields (`status`,
///   `percent_complete`, retry and failure logs, test results, `g_last_update`, …) and whose
///   payload carries `final_execution_status` / `final_validation_status`.
///
/// The guarantee: every leaf of the source is either in the clean plan — at the same path, or at
/// the path ``Result/moves`` names for it — with the same value, or in ``Result/legacyState``
/// under its own path (or an ancestor's). Values that are transformed on the way (a flat task's
/// `execution_type` written into `notes`) are also kept verbatim in `legacyState`.
///
/// ```swift
/// let r = try LegacyMigration.migrate(bytes: legacy, options: .init(sourceName: "old_plan.json", defaultPersona: "DEV"))
/// r.plan                  // the clean v5.4 plan (a DRAFT; lock it with `locked()`)
/// r.genesisData           // `extra` for Genesis.make(type: .migrated)
/// ```
public enum LegacyMigration {
    public enum Shape: String, Sendable {
        case flat
        case haios = "haios_v5"

        public var label: String {
            switch self {
            case .flat: "flat legacy plan"
            case .haios: "HAIOS v5.x plan"
            }
        }
    }

    public struct Options: Sendable {
        /// The source's name in messages and in the genesis (a file name).
        public var sourceName: String
        /// The persona for tasks that name none.
        public var defaultPersona: String?
        /// A legacy state.txt's `rt` counters.
        public var retryCounters: LegacyRetryCounters?

        public init(sourceName: String, defaultPersona: String? = nil, retryCounters: LegacyRetryCounters? = nil) {
            self.sourceName = sourceName
            self.defaultPersona = defaultPersona
            self.retryCounters = retryCounters
        }
    }

    /// What happened to one field, for `--dry-run` and for people reading the code's tests.
    public struct FieldChange: Sendable, Equatable {
        public enum Kind: String, Sendable {
            /// Copied to the same path in the clean plan.
            case kept
            /// Copied, unchanged, to another path in the clean plan (recorded in `legacy_moves`).
            case moved
            /// A clean-plan field computed from a source field (the source stays where it was listed).
            case derived
            /// A clean-plan field the source did not have.
            case defaulted
            /// Removed from the plan; carried verbatim by the genesis' `legacy_state`.
            case toStatus = "to_status"
        }

        public var kind: Kind
        /// Path in the legacy document (nil for defaults).
        public var source: JSONPath?
        /// Path in the clean plan (nil for `to_status`).
        public var target: JSONPath?
        public var value: JSONValue
        /// Why, or how.
        public var note: String?

        public init(kind: Kind, source: JSONPath?, target: JSONPath?, value: JSONValue, note: String? = nil) {
            self.kind = kind
            self.source = source
            self.target = target
            self.value = value
            self.note = note
        }
    }

    public struct Result: Sendable {
        public var shape: Shape
        public var planID: String
        public var sourceName: String
        /// `sha256:` of the source bytes: with the plan id, what makes migration idempotent.
        public var sourceDigest: Digest256
        /// The clean v5.4 plan, unlocked, with a header the workspace completes.
        public var plan: PlanDocument
        /// Source path → verbatim value, for everything the clean plan does not carry as it was.
        public var legacyState: JSONObject
        /// State-file path → verbatim value, for the `rt` counters used.
        public var legacyStateFile: JSONObject
        /// Source path → clean-plan path, for fields copied unchanged to another path.
        public var moves: JSONObject
        /// Task id → mapped status, for tasks that had a status.
        public var taskStatus: JSONObject
        /// Task id → {original_status, status, percent_complete, retries_used, retries_from,
        /// execution_checklist, tests, blocker_reason}: the live state the status starts from.
        public var legacyTasks: JSONObject
        /// The plan-level live fields (`status`, `final_execution_status`, …), verbatim.
        public var legacyPlanStatus: JSONObject
        public var changes: [FieldChange]
        /// Mean task percent after migration (DONE and WAIVED count 100), as StatusState computes it.
        public var completion: Double
        /// Human-readable notes (unrecognised status words, ignored counters, …).
        public var warnings: [String]

        /// The `extra` data of the `migrated` genesis (Genesis.make adds the normal genesis data).
        public var genesisData: JSONObject {
            var migration = JSONObject([
                ("source_file", .string(sourceName)),
                ("source_sha256", .string(sourceDigest.description)),
                ("source_shape", .string(shape.rawValue)),
            ])
            if let rc = retryCounters {
                migration["state_file"] = .string(rc.sourceName)
                migration["state_sha256"] = .string(rc.sourceDigest.description)
            }
            if let p = defaultPersona { migration["default_persona"] = .string(p) }
            var d = JSONObject([
                ("migration", .object(migration)),
                ("legacy_state", .object(legacyState)),
                ("legacy_task_status", .object(taskStatus)),
                ("legacy_tasks", .object(legacyTasks)),
                ("overall_completion_percentage", .number(completion)),
            ])
            if !legacyStateFile.isEmpty { d["legacy_state_file"] = .object(legacyStateFile) }
            if !moves.isEmpty { d["legacy_moves"] = .object(moves) }
            if !legacyPlanStatus.isEmpty { d["legacy_plan_status"] = .object(legacyPlanStatus) }
            return d
        }

        /// The state file whose `rt` counters were read, if any.
        public var retryCounters: LegacyRetryCounters?
        public var defaultPersona: String?
    }

    /// Parses legacy bytes strictly; an error names the source, line, column and what was found
    /// (real legacy plans hold unquoted placeholders such as `<current_g>`).
    public static func parseSource(_ bytes: [UInt8], name: String) throws(LogbookError) -> JSONValue {
        do { return try JSONParser.parse(bytes) } catch {
            throw LogbookError(.badInput, "\(name): not valid JSON at line \(error.line), column \(error.column): \(error.message)")
        }
    }

    /// Splits a legacy plan. Throws `.badInput` (not JSON, unknown shape) or `.invalidPlan`
    /// (missing or duplicate task ids, tasks without a persona, a migrated plan that fails
    /// validation), each message starting with the source name.
    public static func migrate(bytes: [UInt8], options: Options) throws(LogbookError) -> Result {
        let name = options.sourceName
        let json = try parseSource(bytes, name: name)
        guard let root = json.objectValue else {
            throw LogbookError(.badInput, "\(name): a legacy plan is a JSON object, found \(json.kindName)")
        }
        let shape: Shape
        if root["payload"]?.objectValue != nil { shape = .haios }
        else if root["tasks"]?.arrayValue != nil { shape = .flat }
        else {
            throw LogbookError(.badInput, "\(name): not a plan shape migrate knows: expected a HAIOS plan (os_file_header + payload object) or a flat legacy plan (plan_id + tasks array)")
        }
        var s = Splitter(shape: shape, options: options)
        let doc = s.run(root)
        if !s.problems.isEmpty {
            let list = s.problems.map { "\($0.0): \($0.1)" }
            throw LogbookError(.invalidPlan, "\(name): invalid legacy plan, " + (list.count == 1 ? list[0] : "\(list.count) problems: " + list.joined(separator: "; ")))
        }
        let plan = PlanDocument(json: doc)
        let spec: PlanSpec
        do { spec = try plan.spec() } catch {
            let hint = shape == .flat ? " (payload.tasks[i] is the source's tasks[i])" : ""
            throw LogbookError(error.code, "\(name): the migrated plan would be invalid: \(error.description)\(hint)")
        }
        // Completion as StatusState computes it after the genesis.
        var sum = 0
        for t in spec.tasks {
            let st = s.taskStatus[t.id]?.stringValue.flatMap(TaskStatus.init(rawValue:)) ?? .pending
            sum += st.isComplete ? 100 : (s.legacyTasks[t.id]?["percent_complete"]?.intValue ?? 0)
        }
        let completion = spec.tasks.isEmpty ? 0 : (Double(sum) / Double(spec.tasks.count) * 100).rounded() / 100
        return Result(shape: shape, planID: spec.id, sourceName: name, sourceDigest: .of(bytes), plan: plan,
                      legacyState: s.legacy, legacyStateFile: s.legacyFile, moves: s.moves, taskStatus: s.taskStatus,
                      legacyTasks: s.legacyTasks, legacyPlanStatus: s.planStatus, changes: s.changes, completion: completion,
                      warnings: s.warnings, retryCounters: options.retryCounters, defaultPersona: options.defaultPersona)
    }

    // MARK: - Field classes

    /// The v5.4 task fields, in the order the clean plan writes them.
    public static let taskFields = ["task_id", "title", "description", "intent", "assigned_agent_persona",
                                    "authorized_agent_archetypes", "max_retries", "context_loading_instructions", "inputs", "outputs",
                                    "execution_checklist", "dependencies", "criticality", "notes"]
    public static let planDefinitionFields = ["goal", "scope_summary", "exclusions_summary"]
    /// Fields that name a task's persona in legacy plans, tried in order when `assigned_agent_persona` is absent.
    public static let personaAliases = ["assigned_persona", "persona", "persona_id", "agent_persona", "assignee", "assigned_to", "agent"]
    /// Known live fields of a legacy task (anything else not in ``taskFields`` moves too, as "not a v5.4 field").
    public static let liveTaskFields: Set<String> = [
        "status", "percent_complete", "progress_percent", "percent", "progress", "retry_count", "retries",
        "retry_attempts", "retry_attempts_log", "retry_log", "retry_history", "failure_details", "failure_log",
        "failure_logs", "failures", "error_log", "execution_log", "test_results", "test_result", "latest_test_status",
        "test_status", "tests", "g_last_update", "g_started", "g_completed", "last_updated_by_persona_id",
        "last_updated_by_archetype", "last_updated_ts", "started_at", "completed_at", "signature_hash",
        "readiness_check", "blocker_reason", "blocked_reason", "blocking_reason", "blocker", "blockers",
        "actual_outputs", "result", "results", "completion_notes", "achievements",
    ]
    public static let livePlanFields: Set<String> = [
        "status", "final_execution_status", "final_validation_status", "overall_status", "overall_completion_percentage",
        "completion_percentage", "g_last_update", "last_updated_by_persona_id", "current_task_id", "current_task_id_ref",
        "execution_log", "key_achievements_log", "achievements", "retry_counts",
    ]
    /// Live fields of a checklist item.
    public static let liveChecklistFields: Set<String> = ["status", "checked", "completed", "is_completed", "done", "completed_g", "g_completed"]
    /// Lock flags, Logbook's earlier ones and the ratified v5.4 ones (set again when the plan is locked).
    static let lockFlags: Set<String> = PlanDocument.allLockFlags
    /// v5.4 plan fields that are spec, not live state, kept in the clean plan as they are.
    static let specPlanFields: Set<String> = ["origin_and_context", "test_execution_metadata"]
    /// Plan-level fields shown in the snapshot's `migrated_from`.
    static let planStatusFields = ["status", "final_execution_status", "final_validation_status", "overall_status"]
}

// MARK: - The splitter

extension LegacyMigration {
    struct Splitter {
        let shape: Shape
        let options: Options
        var legacy = JSONObject()
        var legacyFile = JSONObject()
        var moves = JSONObject()
        var changes: [FieldChange] = []
        var problems: [(String, String)] = []
        /// Tasks that name no persona (source path, task id), reported as one problem.
        var withoutPersona: [(String, String)] = []
        var warnings: [String] = []
        var taskStatus = JSONObject()
        var legacyTasks = JSONObject()
        var planStatus = JSONObject()
        var planID = ""

        init(shape: Shape, options: Options) {
            self.shape = shape
            self.options = options
        }

        static let notV54 = "not a v5.4 plan field"
        static let live = "live state"

        mutating func toStatus(_ src: JSONPath, _ v: JSONValue, _ why: String) {
            legacy[src.description] = v
            changes.append(FieldChange(kind: .toStatus, source: src, target: nil, value: v, note: why))
        }

        mutating func copy(_ src: JSONPath, _ dst: JSONPath, _ v: JSONValue, note: String? = nil) {
            if src == dst {
                changes.append(FieldChange(kind: .kept, source: src, target: dst, value: v, note: note))
            } else {
                moves[src.description] = .string(dst.description)
                changes.append(FieldChange(kind: .moved, source: src, target: dst, value: v, note: note))
            }
        }

        mutating func derive(_ dst: JSONPath, _ v: JSONValue, from src: JSONPath?, _ note: String) {
            changes.append(FieldChange(kind: src == nil ? .defaulted : .derived, source: src, target: dst, value: v, note: note))
        }

        mutating func run(_ root: JSONObject) -> JSONValue {
            let payloadPath = JSONPath([.key("payload")])
            var planID: JSONValue?
            var planType: JSONValue?
            var definition = JSONObject()
            var tasks: JSONValue = .array([])
            var specFields = JSONObject()
            var sawDefinition = false
            self.planID = (shape == .haios ? root["payload"]?["execution_plan_id"] : root["plan_id"])?.stringValue ?? ""

            if shape == .haios {
                for (k, v) in root where k != "payload" {
                    let p = JSONPath([.key(k)])
                    toStatus(p, v, k == "os_file_header" ? "legacy header (the workspace writes a new one)" : Self.notV54)
                }
                let payload = root["payload"]!.objectValue!
                for (k, v) in payload {
                    let p = payloadPath.appending(k)
                    switch k {
                    case "execution_plan_id": planID = v; copy(p, p, v)
                    case "plan_type": planType = v; copy(p, p, v)
                    case "plan_definition":
                        sawDefinition = true
                        if let o = v.objectValue {
                            for (dk, dv) in o {
                                let dp = p.appending(dk)
                                if LegacyMigration.planDefinitionFields.contains(dk) { definition[dk] = dv; copy(dp, dp, dv) }
                                else { toStatus(dp, dv, LegacyMigration.lockFlags.contains(dk) ? "lock flag (set again when the plan is locked)" : Self.notV54) }
                            }
                        } else {
                            toStatus(p, v, "plan_definition is not an object")
                        }
                    case _ where LegacyMigration.specPlanFields.contains(k):
                        specFields[k] = v
                        copy(p, p, v)
                    case "tasks":
                        if let list = v.arrayValue { tasks = .array(self.tasks(list, source: p)) } else {
                            tasks = v
                            copy(p, p, v)
                        }
                    default:
                        noteLivePlanField(k, v)
                        toStatus(p, v, LegacyMigration.livePlanFields.contains(k) ? Self.live
                                 : LegacyMigration.lockFlags.contains(k) ? "lock flag (set again when the plan is locked)" : Self.notV54)
                    }
                }
            } else {
                let hasGoal = root["goal"] != nil
                for (k, v) in root {
                    let p = JSONPath([.key(k)])
                    switch k {
                    case "plan_id": planID = v; copy(p, payloadPath.appending("execution_plan_id"), v)
                    case "plan_type": planType = v; copy(p, payloadPath.appending("plan_type"), v)
                    case "description" where !hasGoal, "goal", "scope_summary", "exclusions_summary":
                        let dk = k == "description" ? "goal" : k
                        definition[dk] = v
                        copy(p, payloadPath.appending("plan_definition").appending(dk), v)
                    case "tasks":
                        tasks = .array(self.tasks(v.arrayValue!, source: p))
                    case "created_g":
                        toStatus(p, v, "the legacy workspace's g when the plan was created (provenance)")
                    default:
                        noteLivePlanField(k, v)
                        toStatus(p, v, LegacyMigration.livePlanFields.contains(k) ? Self.live : Self.notV54)
                    }
                }
            }
            if planID == nil { problems.append((shape == .flat ? "plan_id" : "payload.execution_plan_id", "missing (the plan needs an id)")) }
            if !withoutPersona.isEmpty {
                let fields = shape == .flat ? "assigned_agent_persona, assigned_persona, …" : "assigned_agent_persona"
                let which = withoutPersona.count == 1 ? "task \(withoutPersona[0].1) names" : "tasks " + withoutPersona.map(\.1).joined(separator: ", ") + " name"
                problems.append((withoutPersona.map(\.0).joined(separator: ", "), "\(which) no persona (\(fields)); pass --default-persona P"))
            }
            let defPath = payloadPath.appending("plan_definition")
            if planType == nil {
                planType = "CONSTRUCT"
                derive(payloadPath.appending("plan_type"), "CONSTRUCT", from: nil, "default plan type")
            }
            var cleanDefinition = JSONObject()
            for f in LegacyMigration.planDefinitionFields {
                if let v = definition[f] { cleanDefinition[f] = v } else {
                    cleanDefinition[f] = ""
                    derive(defPath.appending(f), "", from: nil, sawDefinition || shape == .flat ? "missing; empty" : "no plan_definition; empty")
                }
            }
            var payload = JSONObject([
                ("execution_plan_id", planID ?? ""), ("plan_type", planType!), ("plan_definition", .object(cleanDefinition)), ("tasks", tasks),
            ])
            for (k, v) in specFields { payload[k] = v }
            let header = JSONObject([("entity_type", .string(PlanDocument.entityType)), ("schema_definition_id_ref", .string(PlanDocument.schemaID))])
            return .object(JSONObject([("os_file_header", .object(header)), ("payload", .object(payload))]))
        }

        mutating func noteLivePlanField(_ k: String, _ v: JSONValue) {
            if LegacyMigration.planStatusFields.contains(k) { planStatus[k] = v }
        }

        mutating func tasks(_ list: [JSONValue], source: JSONPath) -> [JSONValue] {
            var firstIndex: [String: Int] = [:]
            var out: [JSONValue] = []
            for (i, t) in list.enumerated() {
                let src = source.appending(i)
                let dst = JSONPath([.key("payload"), .key("tasks"), .index(i)])
                guard let o = t.objectValue else {
                    problems.append((src.description, "expected a task object, found \(t.kindName)"))
                    continue
                }
                if let id = o["task_id"]?.stringValue {
                    if let j = firstIndex[id] {
                        problems.append((src.appending("task_id").description, "duplicate task id \(id) (first at \(source.appending(j)))"))
                    } else { firstIndex[id] = i }
                } else {
                    problems.append((src.appending("task_id").description, o["task_id"] == nil ? "missing" : "expected a string, found \(o["task_id"]!.kindName)"))
                }
                out.append(.object(task(o, src: src, dst: dst)))
            }
            return out
        }

        mutating func task(_ o: JSONObject, src: JSONPath, dst: JSONPath) -> JSONObject {
            let id = o["task_id"]?.stringValue ?? ""
            var clean = JSONObject()
            let execType = o["execution_type"]
            var personaFrom: (JSONPath, JSONValue)?
            var checklistStates: [JSONValue] = []
            for (k, v) in o {
                let sp = src.appending(k)
                let dp = dst.appending(k)
                switch k {
                case "notes" where execType != nil:
                    toStatus(sp, v, "transformed: execution_type is appended to notes")
                case "execution_checklist":
                    clean[k] = checklist(v, src: sp, dst: dp, states: &checklistStates)
                case _ where LegacyMigration.taskFields.contains(k):
                    clean[k] = v
                    copy(sp, dp, v)
                case _ where LegacyMigration.personaAliases.contains(k) && o["assigned_agent_persona"] == nil && personaFrom == nil && v.stringValue != nil:
                    personaFrom = (sp, v)
                    clean["assigned_agent_persona"] = v
                    copy(sp, dst.appending("assigned_agent_persona"), v)
                case "execution_type":
                    toStatus(sp, v, "legacy execution type (also written into notes)")
                default:
                    toStatus(sp, v, LegacyMigration.liveTaskFields.contains(k) ? Self.live
                             : LegacyMigration.lockFlags.contains(k) ? "lock flag (set again when the plan is locked)" : Self.notV54)
                }
            }
            // Defaults and derived fields.
            if clean["title"] == nil {
                let title: String
                let from: JSONPath?
                if let d = o["description"]?.stringValue, !d.trimmingSpaces.isEmpty {
                    title = LegacyMigration.title(from: d)
                    from = src.appending("description")
                } else {
                    title = id
                    from = o["task_id"] != nil ? src.appending("task_id") : nil
                }
                clean["title"] = .string(title)
                derive(dst.appending("title"), .string(title), from: from, from?.components.last == .key("description") ? "first line of the description" : "the task id")
            }
            if clean["assigned_agent_persona"] == nil {
                if let p = options.defaultPersona {
                    clean["assigned_agent_persona"] = .string(p)
                    derive(dst.appending("assigned_agent_persona"), .string(p), from: nil, "--default-persona")
                } else {
                    withoutPersona.append((src.description, id.isEmpty ? "?" : id))
                }
            }
            if let execType {
                let line = "execution_type: " + (execType.stringValue ?? CanonicalJSON.string(execType))
                let notes: String
                if let old = o["notes"]?.stringValue, !old.isEmpty { notes = old + "\n" + line } else { notes = line }
                clean["notes"] = .string(notes)
                derive(dst.appending("notes"), .string(notes), from: src.appending("execution_type"),
                       o["notes"] == nil ? "from execution_type" : "notes with execution_type appended")
            }
            let defaults: [(String, JSONValue)] = [
                ("description", ""), ("intent", ""), ("authorized_agent_archetypes", []), ("max_retries", 0),
                ("context_loading_instructions", []), ("inputs", []),
                ("outputs", []), ("execution_checklist", []), ("dependencies", []), ("criticality", "MEDIUM"), ("notes", ""),
            ]
            for (k, v) in defaults where clean[k] == nil {
                clean[k] = v
                derive(dst.appending(k), v, from: nil, "default")
            }
            liveState(o, id: id, src: src, checklist: checklistStates)
            var ordered = JSONObject()
            for k in LegacyMigration.taskFields { if let v = clean[k] { ordered[k] = v } }
            return ordered
        }

        mutating func checklist(_ v: JSONValue, src: JSONPath, dst: JSONPath, states: inout [JSONValue]) -> JSONValue {
            guard let items = v.arrayValue else {
                copy(src, dst, v)
                return v
            }
            var out: [JSONValue] = []
            var removed = 0
            for (j, item) in items.enumerated() {
                guard let o = item.objectValue else { out.append(item); continue }
                var cleanItem = JSONObject()
                var state = JSONObject([("index", .number(Double(j)))])
                if let iid = o["item_id"] ?? o["id"] { state["item_id"] = iid }
                for (k, x) in o {
                    if LegacyMigration.liveChecklistFields.contains(k) {
                        toStatus(src.appending(j).appending(k), x, "checklist item state")
                        state[k] = x
                        removed += 1
                    } else {
                        cleanItem[k] = x
                    }
                }
                if state.count > (state["item_id"] == nil ? 1 : 2) { states.append(.object(state)) }
                out.append(.object(cleanItem))
            }
            copy(src, dst, .array(out), note: removed > 0 ? "items without their \(removed) state field\(removed == 1 ? "" : "s")" : nil)
            return .array(out)
        }

        /// Reads the task's live fields into `legacy_task_status` and `legacy_tasks` (they are
        /// already in `legacy_state` verbatim; this is the interpreted view the reducer folds).
        mutating func liveState(_ o: JSONObject, id: String, src: JSONPath, checklist: [JSONValue]) {
            guard !id.isEmpty else { return }
            var info = JSONObject()
            var status = TaskStatus.pending
            if let raw = o["status"] {
                status = LegacyStatus.map(raw)
                taskStatus[id] = .string(status.rawValue)
                info["original_status"] = raw
                info["status"] = .string(status.rawValue)
                if let s = raw.stringValue, !LegacyStatus.isRecognised(s) {
                    warnings.append("\(src.appending("status")): unknown status \"\(s)\" mapped to PENDING")
                } else if raw.stringValue == nil {
                    warnings.append("\(src.appending("status")): status is \(raw.kindName), mapped to PENDING")
                }
            }
            for k in ["percent_complete", "progress_percent", "percent", "progress"] {
                guard let v = o[k] else { continue }
                if let p = LegacyMigration.percent(v) { info["percent_complete"] = .number(Double(p)); break }
            }
            // Retries used: the largest count any source gives.
            var retries = -1
            var from: [JSONValue] = []
            func count(_ n: Int?, _ path: String) {
                guard let n, n >= 0 else { return }
                from.append(.string(path))
                retries = max(retries, n)
            }
            for k in ["retry_count", "retries", "retry_attempts"] { count(o[k]?.intValue, src.appending(k).description) }
            for k in ["retry_attempts_log", "retry_log", "retry_history"] { count(o[k]?.arrayValue?.count, src.appending(k).description) }
            count(o["execution_log"]?["retry_attempts_log"]?.arrayValue?.count, src.appending("execution_log").appending("retry_attempts_log").description)
            if let rc = options.retryCounters, let (path, v) = rc.lookup(plan: planID, task: id) {
                legacyFile[path.description] = v
                if let n = v.intValue, n >= 0 { count(n, "\(rc.sourceName):\(path)") }
                else { warnings.append("\(rc.sourceName): \(path) is not a whole number ≥ 0; ignored (kept verbatim)") }
            }
            if retries >= 0 {
                info["retries_used"] = .number(Double(retries))
                info["retries_from"] = .array(from)
            }
            for k in ["test_results", "test_result", "latest_test_status", "test_status", "tests"] {
                guard let v = o[k], let t = LegacyMigration.tests(v) else { continue }
                info["tests"] = .object(t)
                info["tests_from"] = .string(src.appending(k).description)
                break
            }
            if status == .blocked {
                for k in ["blocker_reason", "blocked_reason", "blocking_reason", "blocker"] {
                    if let r = o[k]?.stringValue ?? o[k]?["reason"]?.stringValue {
                        info["blocker_reason"] = .string(String(r.prefix(Event.maxTextBytes)))
                        break
                    }
                }
            }
            if !checklist.isEmpty { info["execution_checklist"] = .array(checklist) }
            if !info.isEmpty { legacyTasks[id] = .object(info) }
        }
    }

    /// A task title from a description: its first line, cut at a word before 80 characters.
    public static func title(from description: String) -> String {
        let firstLine = description.split(whereSeparator: \.isNewline).first.map { String(String($0).trimmingSpaces) } ?? ""
        guard firstLine.count > 80 else { return firstLine }
        let cut = firstLine.prefix(79)
        if let space = cut.lastIndex(of: " "), cut.distance(from: cut.startIndex, to: space) > 40 {
            return String(cut[..<space]) + "…"
        }
        return String(cut) + "…"
    }

    /// A legacy percent (a number, or a string such as "45%") as a whole number 0–100.
    static func percent(_ v: JSONValue) -> Int? {
        var d = v.doubleValue
        if d == nil, let s = v.stringValue {
            var t = String(s.trimmingSpaces)
            if t.hasSuffix("%") { t.removeLast() }
            d = Double(String(t.trimmingSpaces))
        }
        guard let d, d.isFinite else { return nil }
        return Int(min(100, max(0, d.rounded())))
    }

    /// Legacy test results as suite → {passed, failed, skipped}, when their shape says so:
    /// one result object (`passed`, `failed`, optional `skipped` and `suite`/`name`), an array of
    /// them, or an object of suite name → result.
    static func tests(_ v: JSONValue) -> JSONObject? {
        func counts(_ o: JSONValue) -> JSONObject? {
            guard let p = o["passed"]?.intValue, let f = o["failed"]?.intValue, p >= 0, f >= 0 else { return nil }
            let s = o["skipped"]?.intValue ?? 0
            return JSONObject([("passed", .number(Double(p))), ("failed", .number(Double(f))), ("skipped", .number(Double(max(0, s))))])
        }
        func suiteName(_ o: JSONValue, _ fallback: String) -> String {
            (o["suite"]?.stringValue ?? o["name"]?.stringValue).flatMap { $0.isEmpty ? nil : $0 } ?? fallback
        }
        var out = JSONObject()
        if let c = counts(v) {
            out[suiteName(v, "legacy")] = .object(c)
        } else if let a = v.arrayValue {
            for (i, x) in a.enumerated() { if let c = counts(x) { out[suiteName(x, "legacy_\(i)")] = .object(c) } }
        } else if let o = v.objectValue {
            for (k, x) in o { if let c = counts(x) { out[k] = .object(c) } }
        }
        return out.isEmpty ? nil : out
    }
}
