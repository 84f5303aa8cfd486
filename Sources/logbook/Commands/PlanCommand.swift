import ArgumentParser
import Foundation
import LogbookCore
import LogbookFileStore

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "Create, import, inspect and lock execution plans.",
        subcommands: [New.self, AddTask.self, Import.self, Show.self, List.self, Lock.self])

    struct New: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an empty DRAFT plan; add tasks with `plan add-task`.")
        @Argument(help: "Plan id (execution_plan_id), e.g. EP-001.") var id: String
        @Option(help: "The plan's goal.") var goal: String = ""
        @Option(help: "Plan type.") var type: String = "CONSTRUCT"
        @OptionGroup var ws: WorkspaceOptions

        func run() async throws {
            let doc: JSONValue = [
                "payload": [
                    "execution_plan_id": .string(id), "plan_type": .string(type),
                    "plan_definition": ["goal": .string(goal), "scope_summary": "", "exclusions_summary": ""],
                    "tasks": [],
                ],
            ]
            let f = try await ws.open().importPlan(bytes: CanonicalJSON.bytes(doc), name: "new plan")
            print("created DRAFT plan \(f.id) in \(Paths.name(f.path))")
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
        @OptionGroup var ws: WorkspaceOptions

        func run() async throws {
            let w = try ws.open()
            let file = try w.plan(plan)
            guard !file.document.isLocked else {
                throw LogbookError(.locked, "plan \(file.id) is locked and cannot change", plan: file.id)
            }
            var root = file.document.json.objectValue ?? JSONObject()
            var payload = file.document.payload
            var tasks = payload["tasks"]?.arrayValue ?? []
            tasks.append([
                "task_id": .string(taskID), "title": .string(title), "description": .string(description), "intent": "",
                "assigned_agent_persona": .string(assignee),
                "authorized_agent_archetypes": .array(archetypes.map { .string($0) }),
                "max_retries": JSONValue(maxRetries), "inputs": [], "outputs": [], "execution_checklist": [],
                "dependencies": .array(dependsOn.map { .string($0) }), "criticality": "MEDIUM", "notes": "",
            ])
            payload["tasks"] = .array(tasks)
            root["payload"] = .object(payload)
            let f = try await w.importPlan(bytes: CanonicalJSON.bytes(.object(root)), name: Paths.name(file.path))
            print("added task \(taskID) to DRAFT plan \(f.id) (\(tasks.count) tasks)")
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Import a plan file (HAIOS exec_plan v5.4) as a DRAFT; prints the plan id.")
        @Argument(help: "Plan JSON file.") var file: String
        @OptionGroup var ws: WorkspaceOptions

        func run() async throws {
            let w = try ws.open()
            guard let data = FileManager.default.contents(atPath: file) else {
                throw LogbookError(.notFound, "cannot read plan file \(file)")
            }
            let f = try await w.importPlan(bytes: Array(data), name: file)
            print(f.id)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a plan (default: the live one).")
        @Argument(help: "Plan id.") var plan: String?
        @Flag(help: "Print the plan file's JSON.") var json = false
        @OptionGroup var ws: WorkspaceOptions

        func run() async throws {
            let f = try ws.open().plan(plan)
            if json { print(PrettyJSON.string(f.document.json), terminator: ""); return }
            let spec = try f.document.spec()
            print("plan \(f.id)  \(Paths.name(f.path))  \(f.document.isLocked ? "LOCKED \(f.document.digest)" : "DRAFT")")
            if let goal = f.document.payload["plan_definition"]?["goal"]?.stringValue, !goal.isEmpty { print("goal: \(goal)") }
            for t in spec.tasks {
                let deps = t.dependencies.isEmpty ? "" : "  after \(t.dependencies.joined(separator: ","))"
                print("  \(t.id.padding(toLength: 10, withPad: " ", startingAt: 0)) \(t.assignedPersona.padding(toLength: 20, withPad: " ", startingAt: 0)) retries≤\(t.maxRetries)  \(t.title)\(deps)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the workspace's plans.")
        @OptionGroup var ws: WorkspaceOptions

        func run() async throws {
            let w = try ws.open()
            let current = try w.readState().currentPlanG
            for f in try w.listPlans() {
                let tasks = f.document.payload["tasks"]?.arrayValue?.count ?? 0
                print("\(f.g == current ? "*" : " ") \(f.id.padding(toLength: 20, withPad: " ", startingAt: 0)) \(Paths.name(f.path).padding(toLength: 22, withPad: " ", startingAt: 0)) \(f.document.isLocked ? "LOCKED" : "DRAFT ") \(tasks) tasks")
            }
        }
    }

    struct Lock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve a plan: lock it, bind its digest, create its status journal and point state.txt at it.")
        @Argument(help: "Plan id.") var plan: String
        @OptionGroup var who: PersonaOptions
        @OptionGroup var ws: WorkspaceOptions

        func run() async throws {
            let w = try ws.open()
            let persona = try who.resolvedPersona()
            let (f, genesis) = try await w.lockPlan(plan, persona: persona, signer: try who.signer(in: w, persona: persona))
            print("locked plan \(f.id): digest \(f.document.digest)")
            print("status journal exec_status_\(f.g).journal (genesis \(genesis.hash)), snapshot exec_status_\(f.g).txt at 0 %")
        }
    }
}

enum Paths {
    static func name(_ path: String) -> String { String(path.split(separator: "/").last ?? Substring(path)) }
}
