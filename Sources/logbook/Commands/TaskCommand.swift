import ArgumentParser
import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore

struct TaskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task", abstract: "Report on a task (each call is one signed, durable event).",
        discussion: "Every verb takes --persona P, --plan ID, --workspace DIR, --idempotency-key K, --expect-seq N, --trace-id T and --json.",
        subcommands: [Start.self, Progress.self, Heartbeat.self, Test.self, Block.self, Unblock.self, Fail.self, Retry.self, Done.self,
                      Achieve.self, Override.self, Reopen.self, Waive.self, Requeue.self, Show.self, List.self, Wait.self])

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "PENDING → IN_PROGRESS (every dependency must be DONE); the persona claims the task.",
            discussion: "With --lease the task is flagged stale once the persona sends no event on it (`task heartbeat` counts) for that long.")
        @Argument(help: "Task id.") var task: String
        @Option(help: ArgumentHelp("A lease: stale after this long without an event of the owner (5s to 24h: 90s, 10m, 2h).", valueName: "DUR"))
        var lease: String?
        @OptionGroup var options: WriteOptions
        func run() async throws {
            var d = JSONObject()
            if let lease {
                let l = try DurationText.parse(lease, option: "--lease")
                let s = Int(l.components.seconds)
                guard EventData.leaseRange.contains(s), l.components.attoseconds == 0 else {
                    throw LogbookError(.badInput, "--lease must be whole seconds from 5s to 24h, got \(lease)", task: task, rule: "lease")
                }
                d["lease_seconds"] = JSONValue(s)
            }
            try await options.record(.started, task: task, data: d)
        }
    }

    struct Heartbeat: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The owner is alive: renews the task's lease, changes nothing else (IN_PROGRESS or BLOCKED).",
            discussion: "One signed journal event, like every other: send one well within the lease (a third of it is a good interval).")
        @Argument(help: "Task id.") var task: String
        @OptionGroup var note: NoteText
        @OptionGroup var options: WriteOptions
        func run() async throws {
            var d = JSONObject()
            d["note"] = try note.value(task: task)
            try await options.record(.heartbeat, task: task, data: d)
        }
    }

    struct Progress: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Report percent complete (0–100) of an IN_PROGRESS task.")
        @Argument(help: "Task id.") var task: String
        @Option(help: "Percent complete, 0–100.") var percent: Int
        @OptionGroup var note: NoteText
        @OptionGroup var options: WriteOptions
        func run() async throws {
            try nonNegative(percent, "--percent", task: task, rule: "percent_range")
            guard percent <= 100 else {
                throw LogbookError(.badInput, "--percent must be from 0 to 100, got \(percent)", task: task, rule: "percent_range")
            }
            var d = JSONObject([("percent", JSONValue(percent))])
            d["note"] = try note.value(task: task)
            try await options.record(.progress, task: task, data: d)
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a test result for an IN_PROGRESS task.")
        @Argument(help: "Task id.") var task: String
        @Option(help: "Suite name.") var suite: String
        @Option(help: "Tests passed.") var passed: Int
        @Option(help: "Tests failed.") var failed: Int
        @Option(help: "Tests skipped.") var skipped: Int = 0
        @Option(help: "Where the full results are (path or URL).") var artifact: String?
        @OptionGroup var options: WriteOptions
        func run() async throws {
            for (n, v) in [("passed", passed), ("failed", failed), ("skipped", skipped)] { try nonNegative(v, "--\(n)", task: task) }
            var d = JSONObject([("suite", try text(suite, "suite", task: task)), ("passed", JSONValue(passed)), ("failed", JSONValue(failed)), ("skipped", JSONValue(skipped))])
            if let artifact { d["artifact"] = try text(artifact, "artifact", task: task) }
            try await options.record(.testResult, task: task, data: d)
        }
    }

    struct Block: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "PENDING/IN_PROGRESS → BLOCKED.")
        @Argument(help: "Task id.") var task: String
        @OptionGroup var reason: ReasonText
        @OptionGroup var options: WriteOptions
        func run() async throws { try await options.record(.blocked, task: task, data: JSONObject([("reason", try reason.value(task: task)!)])) }
    }

    struct Unblock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "BLOCKED → the status it had before.")
        @Argument(help: "Task id.") var task: String
        @OptionGroup var reason: ReasonText
        @OptionGroup var options: WriteOptions
        func run() async throws {
            var d = JSONObject()
            d["reason"] = try reason.value(task: task, required: false)
            try await options.record(.unblocked, task: task, data: d)
        }
    }

    struct Fail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "IN_PROGRESS → FAILED.")
        @Argument(help: "Task id.") var task: String
        @OptionGroup var reason: ReasonText
        @OptionGroup var options: WriteOptions
        func run() async throws { try await options.record(.failed, task: task, data: JSONObject([("reason", try reason.value(task: task)!)])) }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "FAILED → IN_PROGRESS, within the plan's max_retries.")
        @Argument(help: "Task id.") var task: String
        @OptionGroup var reason: ReasonText
        @OptionGroup var options: WriteOptions
        func run() async throws { try await options.record(.retried, task: task, data: JSONObject([("reason", try reason.value(task: task)!)])) }
    }

    struct Done: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "IN_PROGRESS → DONE (100 %).")
        @Argument(help: "Task id.") var task: String
        @OptionGroup var summary: SummaryText
        @Option(name: .customLong("output"), help: "An output produced (repeatable).") var outputs: [String] = []
        @OptionGroup var options: WriteOptions
        func run() async throws {
            var d = JSONObject()
            d["summary"] = try summary.value(task: task, required: false)
            if !outputs.isEmpty { d["outputs"] = .array(try outputs.map { try text($0, "output", task: task) }) }
            try await options.record(.done, task: task, data: d)
        }
    }

    struct Achieve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "achieve", abstract: "Record an achievement on a task.")
        @Argument(help: "Task id.") var task: String
        @OptionGroup var summary: SummaryText
        @Option(help: "A linked artifact.") var artifact: String?
        @OptionGroup var options: WriteOptions
        func run() async throws {
            var d = JSONObject([("summary", try summary.value(task: task, required: true)!)])
            if let artifact { d["artifact"] = try text(artifact, "artifact", task: task) }
            try await options.record(.achievement, task: task, data: d)
        }
    }

    struct Override: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Supervisor: authorise one step past a rule (dependencies_done or max_retries).")
        enum Rule: String, ExpressibleByArgument, CaseIterable {
            case dependenciesDone = "dependencies_done"
            case maxRetries = "max_retries"
        }
        @Argument(help: "Task id.") var task: String
        @Option(help: "The rule to override.") var rule: Rule
        @OptionGroup var reason: ReasonText
        @OptionGroup var options: WriteOptions
        func run() async throws {
            try await options.record(.lockOverride, task: task, data: JSONObject([("rule", .string(rule.rawValue)), ("reason", try reason.value(task: task)!)]))
        }
    }

    struct Reopen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Supervisor: DONE → IN_PROGRESS.")
        @Argument(help: "Task id.") var task: String
        @OptionGroup var reason: ReasonText
        @OptionGroup var options: WriteOptions
        func run() async throws { try await options.record(.reopened, task: task, data: JSONObject([("reason", try reason.value(task: task)!)])) }
    }

    struct Waive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Supervisor: any status → WAIVED (counts as complete).")
        @Argument(help: "Task id.") var task: String
        @OptionGroup var reason: ReasonText
        @OptionGroup var options: WriteOptions
        func run() async throws { try await options.record(.waived, task: task, data: JSONObject([("reason", try reason.value(task: task)!)])) }
    }

    struct Requeue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Supervisor: IN_PROGRESS/BLOCKED/FAILED → PENDING; the claim and lease end, attempts are kept.",
            discussion: "For a stale or stuck task: another authorised persona may then start (claim) it.")
        @Argument(help: "Task id.") var task: String
        @OptionGroup var reason: ReasonText
        @OptionGroup var options: WriteOptions
        func run() async throws { try await options.record(.requeued, task: task, data: JSONObject([("reason", try reason.value(task: task)!)])) }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A task's definition and exact live state.")
        @Argument(help: "Task id.") var task: String
        @Option(help: "Plan id.") var plan: String?
        @Flag(help: "JSON output: the members of `task list --json`, plus the definition and the snapshot's entry.") var json = false
        @OptionGroup var ws: WorkspaceOptions

        func run() async throws {
            try Identifier.check(task, "task id")
            let source = try await TaskSource.open(ws, plan)
            let state = try await source.state()
            guard let i = source.spec.taskIndex[task] else {
                throw LogbookError(.notFound, "unknown task \(task)", plan: source.planID, task: task)
            }
            let t = state.tasks[i], spec = source.spec.tasks[i]
            let ts = t.lastTS
            let view = SupervisorView(state: state, now: Date())
            if json {
                let snapshot = state.snapshot()
                var o = view.task(spec).objectValue!
                o["definition"] = source.document.payload["tasks"]?.arrayValue?[i] ?? .null
                o["status_entry"] = snapshot["payload"]?["tasks_status"]?.arrayValue?[i] ?? .null
                print(PrettyJSON.string(.object(o)), terminator: "")
                return
            }
            let e = SafeText.escape
            print("\(t.id)  \(e(spec.title))")
            print("  status \(t.status.rawValue), \(t.effectivePercent) %, retries \(t.attempts)/\(spec.maxRetries), assigned to \(spec.assignedPersona)")
            if !spec.dependencies.isEmpty {
                print("  waits for " + spec.dependencies.map { "\($0) (\(state.task($0)?.status.rawValue ?? "?"))" }.joined(separator: ", "))
            }
            if let owner = t.owner { print("  claimed by \(e(owner))" + (t.claimedSeq.map { " at seq \($0)" } ?? "")) }
            if let r = t.blockReason { print("  blocked: \(e(r))") }
            if let expiry = t.leaseExpiry {
                print(view.now >= expiry ? "  STALE: the lease ran out at \(Timestamp.string(expiry))" : "  lease until \(Timestamp.string(expiry))")
            }
            if let s = t.lastSeq { print("  last event seq \(s)\(ts.map { " at \($0)" } ?? "") by \(e(t.lastPersona ?? "?"))") }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Tasks, optionally only a persona's or only those ready to start.")
        @Option(help: "Only tasks this persona may report on.") var persona: String?
        @Flag(help: "Only PENDING tasks whose dependencies are all DONE (none once the status is frozen).") var ready = false
        @Option(help: "Plan id.") var plan: String?
        @Flag(help: "JSON output (an array; each element as in `task show --json`).") var json = false
        @OptionGroup var ws: WorkspaceOptions

        func run() async throws {
            let source = try await TaskSource.open(ws, plan)
            let state = try await source.state()
            let archetype = persona.flatMap { state.personas[$0]?.archetype }
            let closed = state.lifecycle == .frozen || state.lifecycle == .archived
            if closed, ready {
                Warning.print("plan \(source.planID) is \(state.lifecycle.rawValue) (frozen at seq \(state.frozenSeq ?? state.seq)): no task can be started", json: json)
            }
            let rows = source.spec.tasks.filter { spec in
                if closed, ready { return false }
                if let persona, spec.assignedPersona != persona, !(archetype.map(spec.authorizedArchetypes.contains) ?? false) { return false }
                if ready { return state.task(spec.id)?.status == .pending && state.unmetDependencies(spec).isEmpty }
                return true
            }
            let view = SupervisorView(state: state, now: Date())
            if json {
                print(CanonicalJSON.string(.array(rows.map(view.task))))
                return
            }
            for s in rows {
                let t = state.task(s.id)!
                let flags = (t.isStale(at: view.now) ? "  STALE" : "") + (t.owner.map { "  (\(SafeText.escape($0)))" } ?? "")
                print("\(s.id.padding(toLength: 10, withPad: " ", startingAt: 0)) \(t.status.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)) \(String(t.effectivePercent).leftPad(3)) %  \(SafeText.escape(s.title))\(flags)")
            }
        }
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
