import ArgumentParser
import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "Create, import, inspect and lock execution plans.",
        subcommands: [New.self, AddTask.self, Import.self, Show.self, List.self, Lock.self, Use.self])

    struct New: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an empty DRAFT plan; add tasks with `plan add-task`.")
        @Argument(help: "Plan id (execution_plan_id), e.g. EP-001.") var id: String
        @Option(help: "The plan's goal.") var goal: String = ""
        @Option(help: "Plan type.") var type: String = "CONSTRUCT"
        @Flag(help: "Replace a DRAFT plan with this id (never a locked one).") var replace = false
        @OptionGroup var ws: WorkspaceOptions

        func run() async throws {
            let doc: JSONValue = [
                "payload": [
                    "execution_plan_id": .string(id), "plan_type": .string(type),
                    "plan_definition": ["goal": .string(goal), "scope_summary": "", "exclusions_summary": ""],
                    "tasks": [],
                ],
            ]
            let f = try await ws.open().importPlan(bytes: CanonicalJSON.bytes(doc), name: "new plan \(id)", replace: replace)
            print("\(replace && (f.document.header["v_file_instance"]?.intValue ?? 1) > 1 ? "replaced" : "created") DRAFT plan \(f.id) in \(Paths.name(f.path))")
        }
    }

    struct AddTask: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add-task", abstract: "Add a task to a DRAFT plan.")
        @Argument(help: "Plan id.") var plan: String
        @Option(name: .customLong("task-id"), help: "Task id.") var taskID: String
        @Option(help: "Title.") var title: String
        @Option(help: "Assigned persona.") var assignee: String
        @Option(name: .customLong("depends-on"), parsing: .upToNextOption, help: "Task ids this task waits for.") var dependsOn: [String] = []
        @Option(name: .customLong("max-retries"), help: "Retries allowed after a failure.") var maxRetries: Int = 0
        @Option(name: .customLong("archetype"), parsing: .upToNextOption, help: "Archetypes also authorised to report on it.") var archetypes: [String] = []
        @Option(help: "Description.") var description: String = ""
        @Option(name: .customLong("expect-version"), help: "Refuse (conflict) unless the plan file is at this v_file_instance.")
        var expectVersion: Int?
        @OptionGroup var ws: WorkspaceOptions

        func run() async throws {
            let w = try ws.open()
            try Identifier.check(taskID, "task id")
            let task: JSONObject = [
                "task_id": .string(taskID), "title": .string(title), "description": .string(description), "intent": "",
                "assigned_agent_persona": .string(assignee),
                "authorized_agent_archetypes": .array(archetypes.map { .string($0) }),
                "max_retries": JSONValue(maxRetries), "inputs": [], "outputs": [], "execution_checklist": [],
                "dependencies": .array(dependsOn.map { .string($0) }), "criticality": "MEDIUM", "notes": "",
            ]
            // Under the workspace lock, on the file as it is then: concurrent add-tasks all land.
            let f = try await w.addTask(plan, task: task, expectedVersion: expectVersion)
            let n = f.document.payload["tasks"]?.arrayValue?.count ?? 0
            print("added task \(taskID) to DRAFT plan \(f.id) (\(n) tasks, v_file_instance \(f.document.header["v_file_instance"]?.intValue ?? 0))")
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Import a plan file (HAIOS exec_plan v5.4) as a DRAFT; prints the plan id.")
        @Argument(help: "Plan JSON file.") var file: String
        @Flag(help: "Replace a DRAFT plan with the same id (never a locked one).") var replace = false
        @OptionGroup var ws: WorkspaceOptions

        func run() async throws {
            let w = try ws.open()
            guard let data = FileManager.default.contents(atPath: file) else {
                throw LogbookError(.notFound, "cannot read plan file \(file)")
            }
            let f = try await w.importPlan(bytes: Array(data), name: file, replace: replace)
            print(f.id)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a plan (default: the live one).")
        @Argument(help: "Plan id.") var plan: String?
        @Flag(help: "Print the plan file's JSON.") var json = false
        @OptionGroup var ws: WorkspaceOptions

        func run() async throws {
            let w = try ws.open()
            let f = try await w.plan(plan)
            // A locked plan is shown only once the genesis proves it (an edited plan file exits 6
            // with verify's finding instead of being shown as if it were locked).
            try await w.provenPlan(f)
            if json { print(PrettyJSON.string(f.document.json), terminator: ""); return }
            let spec = try f.document.spec()
            print("plan \(f.id)  \(Paths.name(f.path))  \(f.document.isLocked ? "LOCKED \(f.document.digest)" : "DRAFT")")
            if let goal = f.document.payload["plan_definition"]?["goal"]?.stringValue, !goal.isEmpty { print("goal: \(SafeText.escape(goal))") }
            for t in spec.tasks {
                let deps = t.dependencies.isEmpty ? "" : "  after \(t.dependencies.joined(separator: ","))"
                print("  \(t.id.padding(toLength: 10, withPad: " ", startingAt: 0)) \(t.assignedPersona.padding(toLength: 20, withPad: " ", startingAt: 0)) retries≤\(t.maxRetries)  \(SafeText.escape(t.title))\(deps)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the workspace's plans: lifecycle (DRAFT, ACTIVE, VALIDATING, FROZEN, ARCHIVED), and * for the one state.txt points at.")
        @Flag(help: "Print a JSON array (plan_id, g, plan_file, status_id, lifecycle, current, tasks, v_file_instance, plan_digest, completion, head_seq, head_hash).") var json = false
        @OptionGroup var ws: WorkspaceOptions

        func run() async throws {
            let plans: [JSONObject]
            if let remote = try ws.remote() {
                plans = try await remote.plans()
            } else {
                plans = try await ws.open().planSummaries().compactMap(\.json.objectValue)
            }
            if json {
                print(CanonicalJSON.string(.array(plans.map { .object($0) })))
                return
            }
            for p in plans {
                func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: n, withPad: " ", startingAt: 0) }
                let current = p["current"]?.boolValue == true
                print("\(current ? "*" : " ") \(pad(p["plan_id"]?.stringValue ?? "?", 20)) \(pad(p["plan_file"]?.stringValue ?? "", 22)) \(pad(p["lifecycle"]?.stringValue ?? "", 10)) \(p["tasks"]?.intValue ?? 0) tasks\(p["error"]?.stringValue.map { "  (\(SafeText.escape($0)))" } ?? "")")
            }
        }
    }

    struct Lock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Approve a plan: lock it, bind its digest, create its status journal.",
            discussion: """
                state.txt is pointed at the new status when no status is live (none, or the current \
                one is ARCHIVED). While another status is live the pointer stays on it, so agents \
                calling without --plan are not moved; --make-current (or `logbook plan use ID` later) \
                moves it explicitly. A plan without tasks cannot be locked (exit 2).
                """)
        @Argument(help: "Plan id.") var plan: String
        @Flag(name: .customLong("make-current"), help: "Point state.txt at this plan even while another status is live.") var makeCurrent = false
        @OptionGroup var who: PersonaOptions
        @OptionGroup var ws: WorkspaceOptions

        func run() async throws {
            let w = try ws.open()
            let persona = try who.resolvedPersona()
            let (f, genesis) = try await w.lockPlan(plan, persona: persona, signer: try await who.signer(in: w, persona: persona), makeCurrent: makeCurrent)
            print("locked plan \(f.id): digest \(f.document.digest)")
            print("status journal exec_status_\(f.g).journal (genesis \(genesis.hash)), snapshot exec_status_\(f.g).txt at 0 %")
            let current = try await w.catalog.loadState().currentStatusID
            if current == f.journalRef.statusID {
                print("state.txt points at \(f.journalRef.statusID) (plan \(f.id))")
            } else {
                print("state.txt still points at \(current ?? "none") (a live status); `logbook plan use \(f.id)` switches to this plan")
            }
        }
    }

    struct Use: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Point state.txt at a locked plan: commands without --plan use it from now on.")
        @Argument(help: "Plan id.") var plan: String
        @OptionGroup var ws: WorkspaceOptions

        func run() async throws {
            let u = try await ws.open().usePlan(plan)
            let to = "\(u.plan.journalRef.statusID) (plan \(u.plan.id), \(u.lifecycle.rawValue))"
            if u.changed {
                print("state.txt now points at \(to); it pointed at \(u.previous ?? "none")")
            } else {
                print("state.txt already points at \(to); unchanged")
            }
        }
    }
}

enum Paths {
    static func name(_ path: String) -> String { String(path.split(separator: "/").last ?? Substring(path)) }
}
