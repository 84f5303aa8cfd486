import Testing
import LogbookCore

/// The task state machine of SPEC §4, checked against a table written out by hand.
@Suite("Task state machine")
struct TaskMachineTests {
    typealias S = TaskStatus

    /// SPEC §4, row by row: event type → (from status → resulting status). Every pair not listed
    /// is refused with rule "transition".
    static let table: [EventType: [S: S]] = [
        // Genesis events, key changes and the plan lifecycle are not task events at all.
        .created: [:],
        .migrated: [:],
        .keyChanged: [:],
        .validationStarted: [:],
        .validated: [:],
        .frozen: [:],
        .archived: [:],
        // started: PENDING → IN_PROGRESS (the dependency rule is the reducer's, not the machine's).
        .started: [.pending: .inProgress],
        // progress, test_result: only while IN_PROGRESS; the status stays.
        .progress: [.inProgress: .inProgress],
        .testResult: [.inProgress: .inProgress],
        // blocked / unblocked: PENDING/IN_PROGRESS ⇄ BLOCKED (unblocked returns to where it was;
        // without that knowledge, to PENDING).
        .blocked: [.pending: .blocked, .inProgress: .blocked],
        .unblocked: [.blocked: .pending],
        // failed: IN_PROGRESS → FAILED; retried: FAILED → IN_PROGRESS; done: IN_PROGRESS → DONE.
        .failed: [.inProgress: .failed],
        .retried: [.failed: .inProgress],
        .done: [.inProgress: .done],
        // achievement and lock_override record something about the task without moving it.
        .achievement: [.pending: .pending, .inProgress: .inProgress, .blocked: .blocked, .failed: .failed,
                       .done: .done, .waived: .waived],
        .lockOverride: [.pending: .pending, .inProgress: .inProgress, .blocked: .blocked, .failed: .failed,
                        .done: .done, .waived: .waived],
        // reopened: DONE → IN_PROGRESS.
        .reopened: [.done: .inProgress],
        // waived: any status → WAIVED (a waived task cannot be waived again).
        .waived: [.pending: .waived, .inProgress: .waived, .blocked: .waived, .failed: .waived, .done: .waived],
        // heartbeat: the owner is alive (IN_PROGRESS or BLOCKED); the status stays.
        .heartbeat: [.inProgress: .inProgress, .blocked: .blocked],
        // requeued: a supervisor hands a task that is under way, stuck or failed back to PENDING.
        .requeued: [.inProgress: .pending, .blocked: .pending, .failed: .pending],
    ]

    struct Pair: CustomTestStringConvertible, Sendable {
        let from: TaskStatus
        let type: EventType
        var testDescription: String { "\(from.rawValue) + \(type.rawValue)" }
    }

    static let allPairs: [Pair] = TaskStatus.allCases.flatMap { s in EventType.allCases.map { Pair(from: s, type: $0) } }

    @Test("the table covers every event type")
    func tableIsComplete() {
        #expect(Set(Self.table.keys) == Set(EventType.allCases))
        #expect(Self.allPairs.count == TaskStatus.allCases.count * EventType.allCases.count)
        #expect(Self.allPairs.count == 6 * 21)
    }

    @Test("every (status, event type) pair", arguments: allPairs)
    func pair(_ p: Pair) {
        let expected = Self.table[p.type]![p.from]
        switch (TaskMachine.transition(from: p.from, on: p.type), expected) {
        case (.success(let got), .some(let want)):
            #expect(got == want)
        case (.failure(let refusal), .none):
            #expect(refusal.rule == "transition")
            #expect(refusal.message.contains(p.type.rawValue))
            if !TaskMachine.allowedFrom(p.type).isEmpty { #expect(refusal.message.contains(p.from.rawValue)) }
        case (.success(let got), .none):
            Issue.record("\(p.testDescription) should be refused, got \(got)")
        case (.failure(let r), .some(let want)):
            Issue.record("\(p.testDescription) should give \(want), was refused: \(r.message)")
        }
        #expect(TaskMachine.allowedFrom(p.type).contains(p.from) == (expected != nil))
    }

    @Test("unblocked returns to the status the task was blocked from", arguments: [S.pending, S.inProgress])
    func unblockedReturns(_ from: TaskStatus) {
        #expect(TaskMachine.transition(from: .blocked, on: .unblocked, blockedFrom: from) == .success(from))
    }

    @Test("a refusal names the allowed statuses")
    func refusalMessage() {
        guard case .failure(let r) = TaskMachine.transition(from: .done, on: .progress) else {
            Issue.record("progress on DONE must be refused")
            return
        }
        #expect(r.rule == "transition")
        #expect(r.message == "progress is allowed only from IN_PROGRESS; the task is DONE")
        guard case .failure(let g) = TaskMachine.transition(from: .pending, on: .created) else {
            Issue.record("created is not a task event")
            return
        }
        #expect(g.message == "created is not a task event")
        guard case .failure(let b) = TaskMachine.transition(from: .failed, on: .blocked) else {
            Issue.record("blocked from FAILED must be refused")
            return
        }
        #expect(b.message == "blocked is allowed only from PENDING or IN_PROGRESS; the task is FAILED")
    }

    /// Who may write what (SPEC §4 "by" column).
    static let authorityTable: [(EventType, TaskMachine.Authority)] = [
        (.started, .assignee), (.progress, .assignee), (.testResult, .assignee), (.failed, .assignee),
        (.retried, .assignee), (.done, .assignee), (.heartbeat, .assignee),
        (.blocked, .assigneeOrSupervisor), (.unblocked, .assigneeOrSupervisor),
        (.achievement, .anyPlanPersona),
        (.lockOverride, .supervisor), (.reopened, .supervisor), (.waived, .supervisor), (.requeued, .supervisor),
        (.created, .supervisor), (.migrated, .supervisor), (.keyChanged, .supervisor),
        (.validationStarted, .supervisor), (.validated, .supervisor), (.frozen, .supervisor), (.archived, .supervisor),
    ]

    @Test("who may write each event type", arguments: authorityTable)
    func authorityOf(_ type: EventType, _ who: TaskMachine.Authority) {
        #expect(TaskMachine.authority(type) == who)
    }

    @Test("the authority table covers every event type")
    func authorityComplete() {
        #expect(Set(Self.authorityTable.map(\.0)) == Set(EventType.allCases))
    }

    @Test("task events are exactly the types with a transition")
    func taskEvents() {
        let withTransitions = Set(Self.table.filter { !$0.value.isEmpty }.keys)
        #expect(Set(EventType.taskEvents) == withTransitions)
    }
}
