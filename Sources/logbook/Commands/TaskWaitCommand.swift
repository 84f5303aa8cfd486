import ArgumentParser
import Foundation
import LogbookCore
import LogbookEngine

extension TaskCommand {
    /// `logbook task wait TASK --until DONE|FAILED|BLOCKED|ANY [--timeout DUR]`: returns when the
    /// task gets there, on the engine's change stream (locally) or the server's event stream.
    struct Wait: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Wait until a task is DONE, FAILED or BLOCKED (ANY: one of them); exit 0 then, 12 at the timeout.",
            discussion: "DONE is also met by WAIVED (both count as complete). A status frozen or archived before the task gets there ends the wait with exit 3.")
        enum Until: String, ExpressibleByArgument, CaseIterable {
            case done = "DONE", failed = "FAILED", blocked = "BLOCKED", any = "ANY"

            func met(by s: TaskStatus) -> Bool {
                switch self {
                case .done: s == .done || s == .waived
                case .failed: s == .failed
                case .blocked: s == .blocked
                case .any: s == .done || s == .waived || s == .failed || s == .blocked
                }
            }
        }

        @Argument(help: "Task id.") var task: String
        @Option(help: "The status to wait for.") var until: Until
        @Option(help: ArgumentHelp("Give up after this long (e.g. 90s, 10m, 2h; default: wait as long as it takes).", valueName: "duration"))
        var timeout: String?
        @Option(help: "Plan id.") var plan: String?
        @Flag(help: "Print the task's status as JSON ({\"task_id\", \"status\", \"seq\"}).") var json = false
        @OptionGroup var ws: WorkspaceOptions

        func run() async throws {
            try Identifier.check(task, "task id")
            let limit = try timeout.map { try DurationText.parse($0, option: "--timeout") }
            try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask { try await wait(); return true }
                if let limit {
                    group.addTask {
                        try await Task.sleep(for: limit)
                        return false
                    }
                }
                let reached = try await group.next() ?? false
                group.cancelAll()
                guard reached else {
                    throw LogbookError(.timeout, "task \(task) did not become \(until.rawValue) within \(timeout ?? "")", task: task)
                }
            }
        }

        /// Returns once the task's status meets `until`.
        func wait() async throws {
            if let remote = try ws.remote() {
                let p = try await RemotePlan.open(remote, try PlanArguments.one(nil, plan))
                let s = try await p.state()
                if try check(s, plan: p.id) { return }
                var seen = s.seq
                try await p.follow(from: s.seq + 1) { seq, line in
                    guard seq > seen else { return true }
                    seen = seq
                    let e = try Event(line: line)
                    // Only this task's events (and lifecycle events) can change the answer.
                    guard e.task == task || e.task == nil else { return true }
                    return try !check(try await p.state(), plan: p.id)
                }
                return
            }
            let w = try ws.open()
            let file = try await w.plan(plan)
            let book = try await w.book(file)
            // Subscribed before the first look, so no change between the look and the wait is missed.
            var wake = w.journals.changes(file.journalRef).makeAsyncIterator()
            while true {
                if try check(try await book.state(), plan: file.id) { return }
                guard await wake.next() != nil else {
                    throw LogbookError(.io, "the journal's change stream ended", plan: file.id, task: task)
                }
            }
        }

        /// Whether the wait is over: prints the task's status when it is.
        func check(_ s: StatusState, plan: String) throws -> Bool {
            guard let t = s.task(task) else { throw LogbookError(.notFound, "unknown task \(task)", plan: plan, task: task) }
            if until.met(by: t.status) {
                if json {
                    print(CanonicalJSON.string(.object(JSONObject([("task_id", .string(t.id)), ("status", .string(t.status.rawValue)),
                                                                  ("seq", t.lastSeq.map { JSONValue($0) } ?? .null)]))))
                } else {
                    print("\(t.id) is \(t.status.rawValue)" + (t.lastSeq.map { " (seq \($0))" } ?? ""))
                }
                return true
            }
            if s.lifecycle == .frozen || s.lifecycle == .archived {
                throw LogbookError(.refused, "the status is \(s.lifecycle.rawValue): task \(task) is \(t.status.rawValue) and will not become \(until.rawValue)",
                                   plan: plan, task: task, rule: "frozen")
            }
            return false
        }
    }
}

/// Durations on the command line: a whole number and a unit, `500ms`, `90s`, `10m`, `2h`.
enum DurationText {
    static func parse(_ text: String, option: String) throws -> Duration {
        let units: [(String, (Int) -> Duration)] = [("ms", { .milliseconds($0) }), ("s", { .seconds($0) }),
                                                     ("m", { .seconds($0 * 60) }), ("h", { .seconds($0 * 3600) })]
        for (suffix, make) in units where text.hasSuffix(suffix) {
            if let n = Int(text.dropLast(suffix.count)), n >= 0, n <= 1_000_000 { return make(n) }
        }
        throw LogbookError(.badInput, "\(option) must be a whole number with a unit (500ms, 90s, 10m, 2h), got \"\(SafeText.escape(text))\"")
    }
}
