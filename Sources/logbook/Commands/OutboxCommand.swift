import ArgumentParser
import Foundation
import LogbookClient
import LogbookCore

/// `logbook outbox list|flush`: the statements kept for a server that could not be reached (or
/// queued with --async).
struct OutboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox", abstract: "Statements kept for a server: list them, send them (in order, each recorded once).",
        subcommands: [List.self, Flush.self])

    struct Where: ParsableArguments {
        @Option(name: .customLong("outbox-dir"), help: ArgumentHelp("The outbox folder (default: $LOGBOOK_OUTBOX, else ./outbox).", valueName: "dir"))
        var dir: String?
        var box: Outbox { Outbox(folder: Outbox.folder(explicit: dir)) }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The queued statements, oldest first.")
        @OptionGroup var place: Where
        @Flag(help: "A JSON array (entry, server, plan, persona, type, task, at).") var json = false

        func run() async throws {
            let entries = try place.box.entries()
            if json {
                print(CanonicalJSON.string(.array(entries.map { e in
                    let s = e.statement.statement
                    return .object(JSONObject([("entry", .string(e.name)), ("server", .string(e.server)), ("plan", .string(e.plan)),
                                               ("persona", .string(s.persona)), ("type", .string(s.type.rawValue)),
                                               ("task", s.task.map { .string($0) } ?? .null), ("at", .string(s.at))]))
                })))
                return
            }
            if entries.isEmpty { print("the outbox \(place.box.folder) is empty") }
            for e in entries {
                let s = e.statement.statement
                print(SafeText.escape("\(e.name)  \(s.at)  \(e.plan)  \(s.type.rawValue)\(s.task.map { " \($0)" } ?? "") by \(s.persona)  → \(e.server)"))
            }
        }
    }

    struct Flush: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send the queued statements in order; print each event; set aside (in refused/) any the server refuses, and say so.",
            discussion: "Stops at the first one the server cannot take now (exit 10) unless --follow, which retries and then waits for more. A statement sent twice is recorded once.")
        @OptionGroup var place: Where
        @Flag(help: "Keep going: retry while the server is away, then wait for new entries (Ctrl-C to stop).") var follow = false
        @Option(help: ArgumentHelp("Send to this server instead of the one each entry names.", valueName: "url")) var server: String?
        @Flag(help: "Print the events as JSON (their journal lines).") var json = false

        func run() async throws {
            let box = place.box
            var refused = 0
            while true {
                var stalled = false
                for e in try box.entries() {
                    let remote = try RemoteLogbook(server: server ?? e.server)
                    do {
                        let (event, _) = try await remote.submit(e.plan, e.statement)
                        box.remove(e)
                        print(json ? String(decoding: CanonicalJSON.bytes(event.json), as: UTF8.self) : EventText.line(event))
                    } catch let error as LogbookError where error.code == .unavailable {
                        guard follow else { throw error }
                        stalled = true
                        break
                    } catch let error as LogbookError {
                        // It became illegal while it waited (the task was waived, the plan frozen):
                        // reported and kept aside, never dropped silently.
                        box.setAside(e, reason: error)
                        refused += 1
                        FileHandle.standardError.write(Data("logbook: refused \(e.name), kept in \(box.folder)/refused: \(SafeText.escape(error.description))\n".utf8))
                    }
                }
                guard follow else { break }
                try await Task.sleep(for: .seconds(stalled ? 2 : 1))
            }
            if refused > 0 {
                throw LogbookError(.refused, "\(refused) queued statement(s) were refused; they are in \(box.folder)/refused with the reasons", rule: "outbox")
            }
        }
    }
}
