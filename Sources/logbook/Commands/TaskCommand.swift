import ArgumentParser
import Foundation
import LogbookCore
import LogbookFileStore

struct TaskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task", abstract: "Report on a task (each call is one signed, durable event).",
        discussion: "Every verb takes --persona P, --plan ID, --workspace DIR, --idempotency-key K, --expect-seq N, --trace-id T and --json.",
        subcommands: [Start.self, Progress.self, Test.self, Block.self, Unblock.self, Fail.self, Retry.self, Done.self,
                      Achieve.self, Override.self, Reopen.self, Waive.self, Show.self, List.self])

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "PENDING → IN_PROGRESS (every dependency must be DONE).")
        @Argument(help: "Task id.") var task: String
        @OptionGroup var options: WriteOptions
        func run() async throws { try await options.record(.started, task: task, data: JSONObject()) }
    }

    struct Progress: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Report percent complete (0–100) of an IN_PROGRESS task.")
        @Argument(help: "Task id.") var task: String
        @Option(help: "Percent complete, 0–100.") var percent: Int
        @Option(help: "A note (≤ 8 KiB).") var note: String?
        @OptionGroup var options: WriteOptions
        func run() async throws {
            guard (0...100).contains(percent) else {
                throw LogbookError(.badInput, "--percent must be from 0 to 100, got \(percent)", task: task, rule: "percent_range")
            }
            var d = JSONObject([("percent", JSONValue(percent))])
            if let note { d["note"] = try text(note, "note", task: task) }
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
            for (n, v) in [("passed", passed), ("failed", failed), ("skipped", skipped)] where v < 0 {
                throw LogbookError(.badInput, "--\(n) must be ≥ 0, got \(v)", task: task)
            }
            var d = JSONObject([("suite", try text(suite, "suite", task: task)), ("passed", JSONValue(passed)), ("failed", JSONValue(failed)), ("skipped", JSONValue(skipped))])
            if let artifact { d["artifact"] = try text(artifact, "artifact", task: task) }
            try await options.record(.testResult, task: task, data: d)
        }
    }

    struct Block: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "PENDING/IN_PROGRESS → BLOCKED.")
        @Argument(help: "Task id.") var task: String
        @Option(help: "Why it is blocked (≤ 8 KiB).") var reason: String
        @OptionGroup var options: WriteOptions
        func run() async throws { try await options.record(.blocked, task: task, data: JSONObject([("reason", try text(reason, "reason", task: task))])) }
    }

    struct Unblock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "BLOCKED → the status it had before.")
        @Argument(help: "Task id.") var task: String
        @Option(help: "What resolved it.") var reason: String?
        @OptionGroup var options: WriteOptions
        func run() async throws {
            var d = JSONObject()
            if let reason { d["reason"] = try text(reason, "reason", task: task) }
            try await options.record(.unblocked, task: task, data: d)
        }
    }

    struct Fail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "IN_PROGRESS → FAILED.")
        @Argument(help: "Task id.") var task: String
        @Option(help: "Failure details (≤ 8 KiB).") var reason: String
        @OptionGroup var options: WriteOptions
        func run() async throws { try await options.record(.failed, task: task, data: JSONObject([("reason", try text(reason, "reason", task: task))])) }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "FAILED → IN_PROGRESS, within the plan's max_retries.")
        @Argument(help: "Task id.") var task: String
        @Option(help: "Why another attempt.") var reason: String
        @OptionGroup var options: WriteOptions
        func run() async throws { try await options.record(.retried, task: task, data: JSONObject([("reason", try text(reason, "reason", task: task))])) }
    }

    struct Done: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "IN_PROGRESS → DONE (100 %).")
        @Argument(help: "Task id.") var task: String
        @Option(help: "Summary of the outcome.") var summary: String?
        @Option(name: .customLong("output"), help: "An output produced (repeatable).") var outputs: [String] = []
        @OptionGroup var options: WriteOptions
        func run() async throws {
            var d = JSONObject()
            if let summary { d["summary"] = try text(summary, "summary", task: task) }
            if !outputs.isEmpty { d["outputs"] = .array(try outputs.map { try text($0, "output", task: task) }) }
            try await options.record(.done, task: task, data: d)
        }
    }

    struct Achieve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "achieve", abstract: "Record an achievement on a task.")
        @Argument(help: "Task id.") var task: String
        @Option(help: "What was achieved.") var summary: String
        @Option(help: "A linked artifact.") var artifact: String?
        @OptionGroup var options: WriteOptions
        func run() async throws {
            var d = JSONObject([("summary", try text(summary, "summary", task: task))])
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
        @Option(help: "Why.") var reason: String
        @OptionGroup var options: WriteOptions
        func run() async throws {
            try await options.record(.lockOverride, task: task, data: JSONObject([("rule", .string(rule.rawValue)), ("reason", try text(reason, "reason", task: task))]))
        }
    }

    struct Reopen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Supervisor: DONE → IN_PROGRESS.")
        @Argument(help: "Task id.") var task: String
        @Option(help: "Why.") var reason: String
        @OptionGroup var options: WriteOptions
        func run() async throws { try await options.record(.reopened, task: task, data: JSONObject([("reason", try text(reason, "reason", task: task))])) }
    }

    struct Waive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Supervisor: any status → WAIVED (counts as complete).")
        @Argument(help: "Task id.") var task: String
        @Option(help: "Why.") var reason: String
        @OptionGroup var options: WriteOptions
        func run() async throws { try await options.record(.waived, task: task, data: JSONObject([("reason", try text(reason, "reason", task: task))])) }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A task's definition and exact live state.")
        @Argument(help: "Task id.") var task: String
        @Option(help: "Plan id.") var plan: String?
        @Flag(help: "JSON output.") var json = false
        @OptionGroup var ws: WorkspaceOptions

        func run() async throws {
            let w = try ws.open()
            let file = try w.plan(plan)
            let book = try await w.book(file)
            let state = try await book.state()
            guard let i = book.plan.taskIndex[task] else {
                throw LogbookError(.notFound, "unknown task \(task)", plan: file.id, task: task)
            }
            let snapshot = state.snapshot(cursor: 0)
            let live = snapshot["payload"]?["tasks_status"]?.arrayValue?[i] ?? .null
            let definition = file.document.payload["tasks"]?.arrayValue?[i] ?? .null
            if json {
                print(PrettyJSON.string(["definition": definition, "status": live]), terminator: "")
                return
            }
            let t = state.tasks[i], spec = book.plan.tasks[i]
            print("\(t.id)  \(spec.title)")
            print("  status \(t.status.rawValue), \(t.effectivePercent) %, retries \(t.attempts)/\(spec.maxRetries), assigned to \(spec.assignedPersona)")
            if !spec.dependencies.isEmpty {
                print("  waits for " + spec.dependencies.map { "\($0) (\(state.task($0)?.status.rawValue ?? "?"))" }.joined(separator: ", "))
            }
            if let r = t.blockReason { print("  blocked: \(r)") }
            if let s = t.lastSeq { print("  last event seq \(s) by \(t.lastPersona ?? "?")") }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Tasks, optionally only a persona's or only those ready to start.")
        @Option(help: "Only tasks this persona may report on.") var persona: String?
        @Flag(help: "Only PENDING tasks whose dependencies are all DONE (none once the status is frozen).") var ready = false
        @Option(help: "Plan id.") var plan: String?
        @Flag(help: "JSON output.") var json = false
        @OptionGroup var ws: WorkspaceOptions

        func run() async throws {
            let w = try ws.open()
            let book = try await w.book(try w.plan(plan))
            let state = try await book.state()
            let archetype = persona.flatMap { state.personas[$0]?.archetype }
            let closed = state.lifecycle == .frozen || state.lifecycle == .archived
            if closed, ready {
                FileHandle.standardError.write(Data("plan \(book.plan.id) is \(state.lifecycle.rawValue) (frozen at seq \(state.frozenSeq ?? state.seq)): no task can be started\n".utf8))
            }
            let rows = book.plan.tasks.filter { spec in
                if closed, ready { return false }
                if let persona, spec.assignedPersona != persona, !(archetype.map(spec.authorizedArchetypes.contains) ?? false) { return false }
                if ready { return state.task(spec.id)?.status == .pending && state.unmetDependencies(spec).isEmpty }
                return true
            }
            if json {
                print(CanonicalJSON.string(.array(rows.map { s in
                    let t = state.task(s.id)!
                    return ["task_id": .string(s.id), "title": .string(s.title), "status": .string(t.status.rawValue),
                            "percent_complete": JSONValue(t.effectivePercent), "assigned_agent_persona": .string(s.assignedPersona),
                            "last_event_seq": JSONValue(t.lastSeq ?? 0)]
                })))
                return
            }
            for s in rows {
                let t = state.task(s.id)!
                print("\(s.id.padding(toLength: 10, withPad: " ", startingAt: 0)) \(t.status.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)) \(String(t.effectivePercent).leftPad(3)) %  \(s.title)")
            }
        }
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
