import ArgumentParser
import Foundation
import Logging
import LogbookCore

/// `logbook`: locked plans and a signed, hash-chained status journal for multi-agent systems.
@main
struct Logbook: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logbook",
        abstract: "Immutable execution plans and a live, tamper-evident record of their execution.",
        discussion: """
            A workspace holds state.txt, personas.json, keys/, plans (exec_plan_<g>.txt), status \
            journals (exec_status_<g>.journal, rotated into exec_status_<g>_archive_<n>.jsonl.gz), \
            snapshots (exec_status_<g>.txt), checkpoints and Validation Reports.
            A plan's life: plan lock → task … → validate → freeze → archive.
            Exit codes: 0 ok, 1 internal error, 2 bad input or usage, 3 refused by a rule, 4 not found, \
            5 signature or key, 6 verification failed or data damaged, 7 I/O error, 8 unsupported \
            environment (a workspace on a network file system), 9 indeterminate (retry with the same \
            idempotency key), 10 server unreachable, 11 queued in the outbox, 12 a wait timed out.
            Errors: one line on stderr, `logbook: error: …`; with --json one JSON object instead, \
            {"error": {"exit", "code", "rule", "plan", "task", "seq", "path", "message", …facts}}.
            """,
        version: LogbookVersion.string,
        subcommands: [
            Init.self, PersonaCommand.self, PlanCommand.self, TaskCommand.self, StatusCommand.self,
            LogCommand.self, WatchCommand.self, VerifyCommand.self, RecoverCommand.self,
            ValidateCommand.self, FreezeCommand.self, ReportCommand.self, ArchiveCommand.self,
            CheckpointCommand.self, ProveCommand.self, VerifyProofCommand.self, ConsistencyCommand.self,
            StaleCommand.self, BlockedCommand.self, NextCommand.self,
            MigrateCommand.self, ServeCommand.self, OutboxCommand.self, DemoCommand.self,
            DemoAgentCommand.self, LoadCommand.self,
        ]
    )

    /// Parses the command line. `--json` is every command's: a command without JSON output
    /// still takes it, and then only its errors are JSON (``ErrorReport/wantsJSON(_:)``).
    static func parseJSONAware(_ arguments: [String]) throws -> any ParsableCommand {
        do {
            return try parseAsRoot(arguments)
        } catch {
            guard ErrorReport.wantsJSON([""] + arguments), Logbook.exitCode(for: error) == .validationFailure else { throw error }
            let end = arguments.firstIndex(of: "--") ?? arguments.endIndex
            let without = arguments[..<end].filter { $0 != "--json" } + arguments[end...]
            guard let command = try? parseAsRoot(Array(without)) else { throw error }
            return command
        }
    }

    static func main() async {
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = ProcessInfo.processInfo.environment["LOGBOOK_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
            return h
        }
        do {
            let arguments = NegativeNumbers.join(Array(CommandLine.arguments.dropFirst()))
            try VerbCheck.check(arguments)
            var command = try parseJSONAware(arguments)
            if var async = command as? AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
        } catch {
            ErrorReport.exit(with: error)
        }
    }
}
