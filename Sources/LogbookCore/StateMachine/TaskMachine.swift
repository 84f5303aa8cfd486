/// The task status state machine of SPEC §4 as a pure function: no I/O, no clock.
///
/// ```swift
/// TaskMachine.transition(from: .pending, on: .started)   // .success(.inProgress)
/// TaskMachine.transition(from: .done, on: .progress)     // .failure(rule "transition")
/// ```
public enum TaskMachine {
    /// The statuses from which `type` may be recorded for a task.
    public static func allowedFrom(_ type: EventType) -> Set<TaskStatus> {
        switch type {
        case .started: [.pending]
        case .progress, .testResult, .failed, .done: [.inProgress]
        case .blocked: [.pending, .inProgress]
        case .unblocked: [.blocked]
        case .retried: [.failed]
        case .reopened: [.done]
        case .waived: [.pending, .inProgress, .blocked, .failed, .done]
        case .heartbeat: [.inProgress, .blocked]
        case .requeued: [.inProgress, .blocked, .failed]
        case .achievement, .lockOverride: Set(TaskStatus.allCases)
        case .created, .migrated, .keyChanged, .validationStarted, .validated, .frozen, .archived: []
        }
    }

    /// The status after recording `type` on a task in `status`, or the refusal.
    ///
    /// - Parameter blockedFrom: for `unblocked`, the status the task had when it was blocked.
    public static func transition(from status: TaskStatus, on type: EventType,
                                  blockedFrom: TaskStatus? = nil) -> Result<TaskStatus, Refusal> {
        guard allowedFrom(type).contains(status) else {
            let allowed = allowedFrom(type).sorted().map(\.rawValue)
            let msg = allowed.isEmpty
                ? "\(type.rawValue) is not a task event"
                : "\(type.rawValue) is allowed only from \(allowed.joined(separator: " or ")); the task is \(status.rawValue)"
            return .failure(Refusal(rule: "transition", message: msg))
        }
        switch type {
        case .started, .retried, .reopened: return .success(.inProgress)
        case .blocked: return .success(.blocked)
        case .unblocked: return .success(blockedFrom ?? .pending)
        case .failed: return .success(.failed)
        case .done: return .success(.done)
        case .waived: return .success(.waived)
        case .requeued: return .success(.pending)
        default: return .success(status)
        }
    }

    /// Who may record `type` on a task.
    public static func authority(_ type: EventType) -> Authority {
        switch type {
        case .started, .progress, .testResult, .failed, .retried, .done, .heartbeat: .assignee
        case .blocked, .unblocked: .assigneeOrSupervisor
        case .achievement: .anyPlanPersona
        case .lockOverride, .reopened, .waived, .requeued, .keyChanged, .created, .migrated,
             .validationStarted, .validated, .frozen, .archived: .supervisor
        }
    }

    /// Task events only the task's owner may write once it is claimed (a supervisor may too).
    public static func isOwnerBound(_ type: EventType) -> Bool {
        switch authority(type) {
        case .assignee, .assigneeOrSupervisor: true
        case .anyPlanPersona, .supervisor: false
        }
    }

    public enum Authority: String, Sendable {
        case assignee
        case assigneeOrSupervisor = "assignee_or_supervisor"
        case anyPlanPersona = "plan_persona"
        case supervisor
    }

    /// A rule that refused an event, and why.
    public struct Refusal: Error, Sendable, Equatable {
        public var rule: String
        public var message: String
    }
}
