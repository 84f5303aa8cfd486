/// The parts of an execution plan that rules depend on, read from the plan document.
public struct PlanSpec: Sendable, Equatable {
    public var id: String
    public var tasks: [TaskSpec]
    public var taskIndex: [String: Int]

    public init(id: String, tasks: [TaskSpec]) {
        self.id = id
        self.tasks = tasks
        self.taskIndex = Dictionary(tasks.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
    }

    public subscript(task id: String) -> TaskSpec? { taskIndex[id].map { tasks[$0] } }
}

/// One task of a plan: who may report on it, what it waits for, how often it may be retried.
public struct TaskSpec: Sendable, Equatable {
    public var id: String
    public var title: String
    public var assignedPersona: String
    public var authorizedArchetypes: [String]
    public var maxRetries: Int
    public var dependencies: [String]
    /// The plan's `criticality` (HAIOS: CRITICAL, HIGH, MEDIUM, LOW; MEDIUM when absent or not a string).
    public var criticality: String

    public init(id: String, title: String, assignedPersona: String, authorizedArchetypes: [String] = [],
                maxRetries: Int = 0, dependencies: [String] = [], criticality: String = "MEDIUM") {
        self.criticality = criticality
        self.id = id
        self.title = title
        self.assignedPersona = assignedPersona
        self.authorizedArchetypes = authorizedArchetypes
        self.maxRetries = maxRetries
        self.dependencies = dependencies
    }
}
