import ArgumentParser
import Foundation
import LogbookCore
import LogbookEngine

/// `logbook stale`, `logbook blocked`, `logbook next`: a supervisor's questions of one plan, on
/// the workspace or through `--server`, answered by the engine's ``SupervisorView`` at the
/// reader's clock.
struct StaleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stale",
        abstract: "IN_PROGRESS tasks with no event for a while, and tasks whose lease ran out (quietest first).",
        discussion: "A task started with --lease is flagged stale once its owner has sent no event (a heartbeat counts) for the lease; `task requeue` hands it back.")
    @Option(name: .customLong("older-than"), help: ArgumentHelp("List IN_PROGRESS tasks quiet at least this long (500ms, 90s, 10m, 2h).", valueName: "DUR"))
    var olderThan = "10m"
    @Option(help: "Plan id.") var plan: String?
    @Flag(help: "JSON output: {plan_id, now, older_than_seconds, tasks: [each as in `task show --json`]}.") var json = false
    @OptionGroup var ws: WorkspaceOptions

    func run() async throws {
        let threshold = try DurationText.parse(olderThan, option: "--older-than")
        let source = try await TaskSource.open(ws, plan)
        let view = SupervisorView(state: try await source.state(), now: Date())
        let seconds = threshold.seconds
        if json {
            print(CanonicalJSON.string(view.staleDocument(olderThan: seconds)))
            return
        }
        let listed = view.stale(olderThan: seconds)
        guard !listed.isEmpty else {
            print("no task of \(source.planID) is stale or quiet for \(olderThan)")
            return
        }
        for spec in listed {
            let t = view.state.task(spec.id)!
            let quiet = t.quietSeconds(at: view.now).map(DurationText.describe) ?? "never reported"
            let lease = t.leaseExpiry.map { $0 <= view.now ? "lease ran out \(DurationText.describe(view.now.timeIntervalSince($0))) ago" : "lease until \(Timestamp.string($0))" } ?? "no lease"
            let last = t.lastSeq.map { "last \(t.lastType?.rawValue ?? "event") at seq \($0)" } ?? ""
            print("\(spec.id.padding(toLength: 10, withPad: " ", startingAt: 0)) \(t.isStale(at: view.now) ? "STALE " : "quiet ") \(quiet.leftPad(8))  owner \(SafeText.escape(t.owner ?? "none"))  \(last)  \(lease)")
        }
    }
}

struct BlockedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "blocked", abstract: "Open blockers: reason, who blocked, since when (longest-standing first).")
    @Option(help: "Plan id.") var plan: String?
    @Flag(help: "JSON output: {plan_id, now, tasks: [each as in `task show --json`, with its blocker]}.") var json = false
    @OptionGroup var ws: WorkspaceOptions

    func run() async throws {
        let source = try await TaskSource.open(ws, plan)
        let view = SupervisorView(state: try await source.state(), now: Date())
        if json {
            print(CanonicalJSON.string(view.blockedDocument))
            return
        }
        let listed = view.blocked()
        guard !listed.isEmpty else {
            print("no task of \(source.planID) is blocked")
            return
        }
        for spec in listed {
            let t = view.state.task(spec.id)!
            let since = t.blockedTS.flatMap(Timestamp.date).map { DurationText.describe(view.now.timeIntervalSince($0)) + " ago" } ?? "?"
            print("\(spec.id.padding(toLength: 10, withPad: " ", startingAt: 0)) blocked \(since) by \(SafeText.escape(t.blockedBy ?? "?")) (seq \(t.blockedSeq.map(String.init) ?? "?")): \(SafeText.escape(t.blockReason ?? ""))")
        }
    }
}

struct NextCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "next",
        abstract: "The tasks a persona may start now, most critical first.",
        discussion: "PENDING, every dependency DONE or WAIVED, assigned to the persona or its archetype, not claimed by another; ordered by criticality, then by how many tasks wait on it.")
    @Option(help: "The persona asking.") var persona: String
    @Option(help: "Plan id.") var plan: String?
    @Flag(help: "JSON output: {plan_id, persona, lifecycle, tasks: [each as in `task show --json`, plus waiting_on_it]}.") var json = false
    @OptionGroup var ws: WorkspaceOptions

    func run() async throws {
        try Identifier.check(persona, "persona id")
        let source = try await TaskSource.open(ws, plan)
        let state = try await source.state()
        guard state.personas[persona] != nil else {
            throw LogbookError(.notFound, "persona \(persona) is not a persona of plan \(source.planID)", plan: source.planID, rule: "persona")
        }
        let view = SupervisorView(state: state, now: Date())
        if json {
            print(CanonicalJSON.string(view.nextDocument(persona: persona)))
            return
        }
        let listed = view.next(persona: persona)
        guard !listed.isEmpty else {
            print(state.lifecycle == .active ? "nothing \(persona) may start now in \(source.planID)" : "plan \(source.planID) is \(state.lifecycle.rawValue): no task can be started")
            return
        }
        for spec in listed {
            print("\(spec.id.padding(toLength: 10, withPad: " ", startingAt: 0)) \(spec.criticality.padding(toLength: 9, withPad: " ", startingAt: 0)) \(SafeText.escape(spec.title))")
        }
    }
}

extension DurationText {
    /// A short reading of seconds: 45s, 12m, 3h 5m.
    static func describe(_ seconds: Double) -> String {
        let s = Int(max(0, seconds))
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" }
        return "\(s / 3600)h \(s % 3600 / 60)m"
    }
}
