import ArgumentParser
import Foundation
import LogbookCore
import LogbookClient
import LogbookEngine
import LogbookFileStore

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "The exact current status of a plan (snapshot + journal tail).")
    @Argument(help: "Plan id (default: the live plan).") var planArgument: String?
    @Option(help: "Plan id.") var plan: String?
    @Flag(help: "Print the state in the snapshot's JSON shape (HAIOS exec_status v1.0).") var json = false
    @OptionGroup var ws: WorkspaceOptions

    func run() async throws {
        if let remote = try ws.remote() {
            let p = try await RemotePlan.open(remote, try PlanArguments.one(planArgument, plan))
            if json {
                FileHandle.standardOutput.write(Data(try await remote.status(p.id)))
                return
            }
            print(StatusTable.render(try await p.state(), titles: p.titles, color: isatty(1) != 0), terminator: "")
            return
        }
        let w = try ws.open()
        let file = try await w.plan(argument: planArgument, option: plan)
        let book = try await w.book(file)
        if json {
            let (bytes, _) = try await book.snapshotBytes()
            FileHandle.standardOutput.write(Data(bytes))
            return
        }
        let state = try await book.state()
        print(StatusTable.render(state, titles: Dictionary(uniqueKeysWithValues: book.plan.tasks.map { ($0.id, $0.title) }),
                                 color: isatty(1) != 0), terminator: "")
    }
}

struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "log", abstract: "The journal's events, oldest first (--follow: and then each new one as it becomes durable).")
    @Argument(help: "Plan id (default: the live plan).") var planArgument: String?
    @Option(help: "Plan id.") var plan: String?
    @Option(help: "Only this task's events.") var task: String?
    @Option(help: ArgumentHelp("Only events of this type (repeatable).", valueName: "TYPE")) var type: [String] = []
    @Option(name: .customLong("exclude-type"), help: ArgumentHelp("Leave out events of this type (repeatable), e.g. heartbeat.", valueName: "TYPE"))
    var excludeType: [String] = []
    @Option(help: "Start at this seq.") var from: Int = 0
    @Flag(help: "Keep printing new events as they become durable (Ctrl-C to stop); through a server, resumes after a broken connection.") var follow = false
    @Flag(help: "Print the raw journal lines (JSON).") var json = false
    @OptionGroup var ws: WorkspaceOptions

    func run() async throws {
        try nonNegative(from, "--from", task: nil)
        if let task { try Identifier.check(task, "task id") }
        for (option, names) in [("--type", type), ("--exclude-type", excludeType)] {
            for n in names where EventType(rawValue: n) == nil {
                throw LogbookError(.badInput, "\(option) \"\(SafeText.escape(n))\" is not an event type (\(EventType.allCases.map(\.rawValue).joined(separator: ", ")))", rule: "type")
            }
        }
        if let remote = try ws.remote() {
            let p = try await RemotePlan.open(remote, try PlanArguments.one(planArgument, plan))
            try checkTask(p.spec, plan: p.id)
            var next = from
            // What is there now, page by page; then the stream.
            while true {
                let lines = try await remote.events(p.id, from: next)
                for line in lines { try emit(line) }
                guard let last = lines.last, let seq = JournalHead.seq(last) else { break }
                next = seq + 1
            }
            guard follow else { return }
            try await p.follow(from: next) { _, line in
                try emit(line)
                return true
            }
            return
        }
        let w = try ws.open()
        let file = try await w.plan(argument: planArgument, option: plan)
        try checkTask(try file.document.spec(), plan: file.id)
        _ = try await w.provenPlan(file)
        let ref = file.journalRef
        var next = from
        var cursor = try await w.position(before: next, ref)
        // Subscribed before the first read, so no event between the read and the wait is missed.
        let changes = follow ? w.journals.changes(ref) : nil
        var wake = changes?.makeAsyncIterator()
        while true {
            let events = try await w.events(ref, from: next, at: cursor, limit: 1000)
            for e in events { try emit(e.bytes) }
            if let last = events.last {
                next = last.seq + 1
                cursor = last.end
                continue
            }
            guard follow, await wake?.next() != nil else { return }
        }
    }

    func checkTask(_ spec: PlanSpec, plan: String) throws {
        guard let task else { return }
        guard spec.taskIndex[task] != nil else {
            throw LogbookError(.notFound, "unknown task \(task) (the plan has no such task)", plan: plan, task: task)
        }
    }

    /// Prints one journal line (raw with --json, else one readable line), unbuffered when following.
    func emit(_ line: [UInt8]) throws {
        let e = try Event(line: line)
        if let task, e.task != task { return }
        if !type.isEmpty, !type.contains(e.type.rawValue) { return }
        if excludeType.contains(e.type.rawValue) { return }
        let text = (json ? String(decoding: line, as: UTF8.self) : EventText.line(e)) + "\n"
        if follow { FileHandle.standardOutput.write(Data(text.utf8)) } else { print(text, terminator: "") }
    }
}

struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "watch", abstract: "Follow a plan's status live until every task is complete or the status is frozen (Ctrl-C to stop).")
    @Argument(help: "Plan id (default: the live plan).") var planArgument: String?
    @Option(help: "Refresh interval in milliseconds.") var interval: Int = 300
    @Flag(help: "Keep watching after every task is complete.") var forever = false
    @OptionGroup var ws: WorkspaceOptions

    func run() async throws {
        let tty = isatty(1) != 0
        var lastSeq = -2
        var lastStale: [String] = []
        /// Shows `s` if it changed (a new event, or a lease that ran out); false when there is
        /// nothing left to watch.
        func show(_ s: StatusState, titles: [String: String], plan: String) -> Bool {
            let now = Date()
            let stale = s.tasks.filter { $0.isStale(at: now) }.map(\.id)
            if s.seq != lastSeq || stale != lastStale {
                let table = StatusTable.render(s, titles: titles, color: tty, now: now)
                FileHandle.standardOutput.write(Data((tty ? "\u{1B}[H\u{1B}[2J" + table : table).utf8))
                lastSeq = s.seq
                lastStale = stale
            }
            if !forever, s.tasks.allSatisfy({ $0.status.isComplete }) { return false }
            // A frozen status takes no more task events (an archived one none at all): nothing
            // left to watch, even when some tasks never finished.
            if s.lifecycle == .archived || (!forever && s.lifecycle == .frozen) {
                print("plan \(plan) is \(s.lifecycle.rawValue) (frozen at seq \(s.frozenSeq ?? s.seq)): no more events to watch")
                return false
            }
            return true
        }
        if let remote = try ws.remote() {
            // Through a server: the state again after each event of its stream.
            let p = try await RemotePlan.open(remote, try PlanArguments.one(planArgument, nil))
            var s = try await p.state()
            guard show(s, titles: p.titles, plan: p.id) else { return }
            try await p.follow(from: s.seq + 1) { seq, _ in
                if seq <= s.seq { return true }
                s = try await p.state()
                return show(s, titles: p.titles, plan: p.id)
            }
            return
        }
        let w = try ws.open()
        let file = try await w.plan(planArgument)
        let book = try await w.book(file)
        let titles = Dictionary(uniqueKeysWithValues: book.plan.tasks.map { ($0.id, $0.title) })
        while true {
            guard show(try await book.state(), titles: titles, plan: file.id) else { return }
            try await Task.sleep(for: .milliseconds(max(50, interval)))
        }
    }
}

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify", abstract: "Check a status journal end to end and name the first failure (seq and kind).")
    @Argument(help: "Plan id (default: the live plan).") var planArgument: String?
    @Option(help: "Plan id.") var plan: String?
    @Flag(help: "JSON output.") var json = false
    @Option(help: ArgumentHelp("Also check the journal against this signed checkpoint (default: the latest stored one, if any).", valueName: "file"))
    var checkpoint: String?
    @OptionGroup var ws: WorkspaceOptions

    func run() async throws {
        if let remote = try ws.remote() { return try await runRemotely(remote) }
        let w = try ws.open()
        let file = try await w.plan(argument: planArgument, option: plan)
        let r = try await w.verify(file, checkpoint: try checkpoint.map { try CheckpointFile.read($0) })
        if json {
            print(PrettyJSON.string(r.json), terminator: "")
        } else {
            for warning in r.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
            if let f = r.failure {
                FileHandle.standardError.write(Data((VerifyText.failed(plan: r.plan, f.description) + "\n").utf8))
            } else {
                let segments = (try? ws.folder().store.segments(file.journalRef).segments.count) ?? 0
                print(VerifyText.ok(plan: r.plan, events: r.events, lastSeq: r.lastSeq, unsigned: r.unsigned, head: r.head?.description,
                                    segments: segments, checkpointSize: r.checkpoint?.size))
            }
        }
        if !r.ok { throw VerificationFailed(plan: r.plan, failure: r.failure) }
    }

    /// The server verifies (with the checkpoint it holds); the report and exit code are the local ones.
    func runRemotely(_ remote: RemoteLogbook) async throws {
        if checkpoint != nil { throw LogbookError(.usage, "--checkpoint FILE checks a local file: with --server the server checks the checkpoint it holds") }
        let p = try await remote.planSummary(try PlanArguments.one(planArgument, plan))
        let id = p["plan_id"]?.stringValue ?? "?"
        let bytes = try await remote.verify(id)
        let r = try JSONParser.parse(bytes)
        let failure = r["failure"].flatMap { f -> VerifyReport.Failure? in
            guard let kind = f["kind"]?.stringValue.flatMap(VerifyReport.Kind.init(rawValue:)) else { return nil }
            return VerifyReport.Failure(seq: f["seq"]?.intValue, kind: kind, message: f["message"]?.stringValue ?? "")
        }
        if json {
            FileHandle.standardOutput.write(Data(bytes))
        } else {
            for w in r["warnings"]?.arrayValue ?? [] { FileHandle.standardError.write(Data("warning: \(w.stringValue ?? "")\n".utf8)) }
            if let failure {
                FileHandle.standardError.write(Data((VerifyText.failed(plan: id, failure.description) + "\n").utf8))
            } else if r["ok"]?.boolValue == true {
                print(VerifyText.ok(plan: id, events: r["events"]?.intValue ?? 0, lastSeq: r["last_seq"]?.intValue ?? -1,
                                    unsigned: r["unsigned_events"]?.intValue ?? 0, head: r["head_hash"]?.stringValue, segments: 0,
                                    checkpointSize: r["checkpoint"]?["size"]?.intValue))
            }
        }
        if r["ok"]?.boolValue != true { throw VerificationFailed(plan: id, failure: failure) }
    }
}

struct RecoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover",
        abstract: "Repair what a writer that died left: cut a torn tail (keeping a copy), finish an interrupted rotation, remove its temporary files. Never touches anything else.",
        discussion: "Writers do the first two themselves on their next append; recover does them now. Damage anywhere else is never repaired: `logbook verify` reports it.")
    @Argument(help: "Plan id (default: the live plan).") var planArgument: String?
    @OptionGroup var ws: WorkspaceOptions

    func run() async throws {
        let w = try ws.open()
        let folder = try ws.folder()
        let file = try await w.plan(planArgument)
        let n = try folder.store.recover(file.journalRef)
        print(n == 0 ? "the journal ends with a complete line: no torn tail" : "removed a torn tail of \(n) bytes (a copy is beside the journal)")
        let stale = folder.removeStaleTemporaries()
        if !stale.isEmpty {
            print("removed \(stale.count) temporary file(s) left by writers that died: " + stale.map { ($0 as NSString).lastPathComponent }.joined(separator: ", "))
        }
    }
}
