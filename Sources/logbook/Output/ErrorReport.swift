import ArgumentParser
import Foundation
import LogbookCore
import LogbookEngine

/// The one place where the CLI turns errors into what it prints on stderr and an exit code.
///
/// Every error becomes a ``LogbookError`` first (argument-parser's usage errors as code `usage`,
/// exit 2), so the exit code always comes from the README's table
/// (``LogbookError/Code/exitCode``). Without `--json` it prints one line,
/// `logbook: error: <description>`, with every piece of user text escaped (``SafeText``); with
/// `--json` anywhere before a `--` it prints one JSON object (``LogbookError/json``) on one
/// line instead. `--help` and `--version` print their text and exit 0.
enum ErrorReport {
    static func exitCode(_ code: LogbookError.Code) -> Int32 { code.exitCode }

    /// Whether the command line asks for JSON: `--json` before a `--` (so usage errors of a
    /// command that takes `--json` are JSON too, whatever else failed to parse).
    static func wantsJSON(_ arguments: [String] = CommandLine.arguments) -> Bool {
        arguments.dropFirst().prefix { $0 != "--" }.contains("--json")
    }

    static func exit(with error: any Error, json: Bool = wantsJSON()) -> Never {
        if let q = error as? Queued {
            // Not an error: the statement is safe in the outbox, not yet in the journal.
            let line = json
                ? CanonicalJSON.string(["queued": ["entry": .string(q.entry), "outbox": .string(q.folder), "plan": .string(q.plan), "reason": .string(q.why)]])
                : "logbook: \(SafeText.escape(q.message))"
            FileHandle.standardError.write(Data((line + "\n").utf8))
            Foundation.exit(11)
        }
        if let v = error as? VerificationFailed {
            // The command printed its report (stderr, or the JSON report on stdout); with --json
            // the error object follows on stderr as for every other error.
            if json { FileHandle.standardError.write(Data(render(v.error, json: true).utf8)) }
            Foundation.exit(v.exitCode)
        }
        guard let e = logbookError(error) else {
            // --help, --version and a command's own ExitCode: argument-parser's own rendering.
            Logbook.exit(withError: error)
        }
        FileHandle.standardError.write(Data(render(e, json: json).utf8))
        Foundation.exit(e.code.exitCode)
    }

    /// What goes on stderr for `e`: one line either way.
    static func render(_ e: LogbookError, json: Bool) -> String {
        if json { return CanonicalJSON.string(e.json) + "\n" }
        return "logbook: error: \(SafeText.escape(e.description))\n"
    }

    /// `error` as a LogbookError, or nil when argument-parser should render it (help, version,
    /// an explicit exit code).
    static func logbookError(_ error: any Error) -> LogbookError? {
        if let e = error as? LogbookError { return e }
        // A ValidationError reaching here was thrown by a command's run(), after parsing: bad input.
        if let e = error as? ValidationError { return LogbookError(.badInput, e.message) }
        if let e = error as? CocoaError, let path = e.userInfo[NSFilePathErrorKey] as? String {
            return LogbookError(.io, "\(path): \(e.localizedDescription)", path: path)
        }
        let code = Logbook.exitCode(for: error)
        if code == .success { return nil }
        if code == .validationFailure {
            // A usage error (unknown verb or option, a missing or malformed value): README exit 2.
            return LogbookError(.usage, usageMessage(error))
        }
        if error is ExitCode { return nil }
        return LogbookError(.init(rawValue: "internal"), Logbook.message(for: error))
    }

    /// argument-parser's message for a usage error, with the pointer to the right `--help`.
    static func usageMessage(_ error: any Error) -> String {
        let full = Logbook.fullMessage(for: error)
        var message = Logbook.message(for: error)
        if message.hasPrefix("Error: ") { message.removeFirst("Error: ".count) }
        if let hint = full.split(separator: "\n").last(where: { $0.contains("--help") }) {
            let text = hint.trimmingCharacters(in: .whitespaces)
            if let open = text.firstIndex(of: "'"), let close = text.lastIndex(of: "'"), open < close {
                message += " (see `\(text[text.index(after: open)..<close])`)"
            }
        }
        return message
    }
}

/// Thrown after a failing `verify` or `report --check` has printed its report; carries what
/// failed when the command knows it.
struct VerificationFailed: Error {
    var exitCode: Int32 = 6
    var plan: String?
    var failure: VerifyReport.Failure?

    init(exitCode: Int32 = 6, plan: String? = nil, failure: VerifyReport.Failure? = nil) {
        self.exitCode = exitCode
        self.plan = plan
        self.failure = failure
    }

    var error: LogbookError {
        guard let failure else {
            return LogbookError(.corrupt, "verification failed" + (plan.map { " for plan \($0)" } ?? ""), plan: plan,
                                facts: ["verification_failed": true])
        }
        return LogbookError(.corrupt, failure.message, plan: plan, seq: failure.seq,
                            facts: ["verification_failed": true, "kind": .string(failure.kind.rawValue)])
    }
}
