import LogbookCore
import LogbookEngine

/// The demo's plan: 12 tasks with dependencies for 4 worker personas, plus how each task
/// behaves when the demo agents run it (which fail once, which get blocked).
enum SamplePlan {
    static let supervisor = "SUPERVISOR"
    static let workers: [(id: String, archetype: String)] = [
        ("ARCHITECT_AGENT", "ARCHITECT"), ("CODING_ASSISTANT", "IMPLEMENTER"),
        ("TEST_ENGINEER", "TESTER"), ("DOCS_WRITER", "WRITER"),
    ]

    struct Task {
        var id: String, title: String, persona: String, deps: [String], maxRetries: Int = 0
        var failsFirstAttempt = false, blocksOnce = false, suite: String? = nil
    }

    static let tasks: [Task] = [
        Task(id: "T01", title: "Define the data model", persona: "ARCHITECT_AGENT", deps: []),
        Task(id: "T02", title: "Design the API surface", persona: "ARCHITECT_AGENT", deps: ["T01"]),
        Task(id: "T03", title: "Implement the storage layer", persona: "CODING_ASSISTANT", deps: ["T01"], maxRetries: 2, failsFirstAttempt: true, suite: "storage-unit"),
        Task(id: "T04", title: "Implement the API handlers", persona: "CODING_ASSISTANT", deps: ["T02", "T03"], suite: "api-unit"),
        Task(id: "T05", title: "Unit tests for storage", persona: "TEST_ENGINEER", deps: ["T03"], suite: "storage-tests"),
        Task(id: "T06", title: "Integration tests", persona: "TEST_ENGINEER", deps: ["T04"], suite: "integration"),
        Task(id: "T07", title: "Draft the user guide", persona: "DOCS_WRITER", deps: ["T02"]),
        Task(id: "T08", title: "Write the API reference", persona: "DOCS_WRITER", deps: ["T04"]),
        Task(id: "T09", title: "Performance review", persona: "ARCHITECT_AGENT", deps: ["T04"]),
        Task(id: "T10", title: "Security review", persona: "ARCHITECT_AGENT", deps: ["T04"], blocksOnce: true),
        Task(id: "T11", title: "Fix review findings", persona: "CODING_ASSISTANT", deps: ["T06", "T10"], maxRetries: 1, failsFirstAttempt: true, suite: "regression"),
        Task(id: "T12", title: "Release notes", persona: "DOCS_WRITER", deps: ["T08", "T11"]),
    ]

    static func task(_ id: String) -> Task? { tasks.first { $0.id == id } }

    /// The plan in the HAIOS exec_plan v5.4 shape.
    static var json: JSONValue {
        [
            "os_file_header": [
                "file_id": "exec_plan_demo", "entity_type": "ExecutionPlan",
                "schema_definition_id_ref": .string(PlanDocument.schemaID), "v_file_instance": 1,
            ],
            "payload": [
                "execution_plan_id": "EP-DEMO-001",
                "plan_type": "CONSTRUCT",
                "plan_definition": [
                    "goal": "Ship a small service: model, storage, API, tests, docs and reviews.",
                    "scope_summary": "Twelve tasks for four agents, with dependencies, a flaky task, a retry and a blocker.",
                    "exclusions_summary": "Deployment.",
                ],
                "tasks": .array(tasks.map { t in
                    [
                        "task_id": .string(t.id), "title": .string(t.title),
                        "description": .string("\(t.title) (demo task)."), "intent": .string(t.title),
                        "assigned_agent_persona": .string(t.persona),
                        "authorized_agent_archetypes": [],
                        "max_retries": JSONValue(t.maxRetries),
                        "inputs": [], "outputs": [.string("\(t.id.lowercased())-output")],
                        "execution_checklist": [["item": .string("\(t.title): done and reviewed")]],
                        "dependencies": .array(t.deps.map { .string($0) }),
                        "criticality": t.failsFirstAttempt ? "HIGH" : "MEDIUM",
                        "notes": "",
                    ]
                }),
            ],
        ]
    }
}
