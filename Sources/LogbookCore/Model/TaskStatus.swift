/// A task's live status (HAIOS exec_status vocabulary).
public enum TaskStatus: String, Sendable, CaseIterable, Comparable {
    case pending = "PENDING"
    case inProgress = "IN_PROGRESS"
    case blocked = "BLOCKED"
    case failed = "FAILED"
    case done = "DONE"
    case waived = "WAIVED"

    /// Whether the task counts as complete (100 %) and satisfies dependants.
    public var isComplete: Bool { self == .done || self == .waived }

    public static func < (a: TaskStatus, b: TaskStatus) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
