import ArgumentParser
import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "The exact current status of a plan (snapshot + journal tail).")
    @Argument(help: "Plan id (default: the live plan).") var planArgument: String?
    @Option(help: "Plan id.") var plan: String?
    @Flag(help: "Print the state in the snapshot's JSON shape (HAIOS exec_status v1.0).") var json = false
    @OptionGroup var ws: WorkspaceOptions

    func run() async throws {
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
    static let configuration = CommandConfiguration(commandName: "log", abstract: "The journal's events, oldest first.")
    @Argument(help: "Plan id (default: the live plan).") var planArgument: String?
    @Option(help: "Plan id.") var plan: String?
    @Option(help: "Only this task's events.") var task: String?
    @Option(help: "Start at this seq.") var from: Int = 0
    @Flag(help: "Print the raw journal lines (JSON).") var json = false
    @OptionGroup var ws: WorkspaceOptions

    func run() async throws {
        let w = try ws.open()
        let file = try await w.plan(argument: planArgument, option: plan)
        if let task {
            try Identifier.check(task, "task id")
            guard try file.document.spec().taskIndex[task] != nil else {
                throw LogbookError(.notFound, "unknown task \(task) (the plan has no such task)", plan: file.id, task: task)
            }
        }
        let ref = file.journalRef
        var n = 0
        try await w.journals.forEachLine(ref) { line in
            defer { n += 1 }
            guard n >= from else { return }
            let e = try Event(line: line.bytes)
            if let task, e.task != task { return }
            print(json ? String(decoding: line.bytes, as: UTF8.self) : EventText.line(e))
        }
    }
}

struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "watch", abstract: "Follow a plan's status live until every task is complete or the status is frozen (Ctrl-C to stop).")
    @Argument(help: "Plan id (default: the live plan).") var planArgument: String?
    @Option(help: "Refresh interval in milliseconds.") var interval: Int = 300
    @Flag(help: "Keep watching after every task is complete.") var forever = false
    @OptionGroup var ws: WorkspaceOptions

    func run() async throws {
        let w = try ws.open()
        let file = try await w.plan(planArgument)
        let book = try await w.book(file)
        let titles = Dictionary(uniqueKeysWithValues: book.plan.tasks.map { ($0.id, $0.title) })
        let tty = isatty(1) != 0
        var lastSeq = -2
        while true {
            let s = try await book.state()
            if s.seq != lastSeq {
                let table = StatusTable.render(s, titles: titles, color: tty)
                print(tty ? "\u{1B}[H\u{1B}[2J" + table : table, terminator: "")
                lastSeq = s.seq
            }
            if !forever, s.tasks.allSatisfy({ $0.status.isComplete }) { return }
            // A frozen status takes no more task events (an archived one none at all): nothing
            // left to watch, even when some tasks never finished.
            if s.lifecycle == .archived || (!forever && s.lifecycle == .frozen) {
                print("plan \(file.id) is \(s.lifecycle.rawValue) (frozen at seq \(s.frozenSeq ?? s.seq)): no more events to watch")
                return
            }
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
        let w = try ws.open()
        let file = try await w.plan(argument: planArgument, option: plan)
        let r = try await w.verify(file, checkpoint: try checkpoint.map { try CheckpointFile.read($0) })
        if json {
            print(PrettyJSON.string(r.json), terminator: "")
        } else {
            for warning in r.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
            if let f = r.failure {
                FileHandle.standardError.write(Data("verify FAILED: plan \(r.plan), \(SafeText.escape(f.description))\n".utf8))
            } else {
                let segments = (try? ws.folder().store.segments(file.journalRef).segments.count) ?? 0
                print("verify OK: plan \(r.plan), \(r.events) events (seq 0–\(r.lastSeq)), \(r.unsigned) unsigned, head \(r.head?.description ?? "-"); plan digest, trust roots, chain, signatures, rules and snapshot checked" + (segments > 0 ? "; \(segments) gzip segment(s) intact" : "") + (r.checkpoint.map { "; matches the checkpoint at size \($0.size)" } ?? ""))
            }
        }
        if !r.ok { throw VerificationFailed(plan: r.plan, failure: r.failure) }
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
