import ArgumentParser
import LogbookCore
import LogbookEngine

/// An unknown verb of a command group (`logbook task update`, `logbook task complete`,
/// `logbook frob`) is named as such, with the verbs there are, before argument-parser would
/// report it as an unexpected argument. A usage error: exit 2.
enum VerbCheck {
    static func check(_ arguments: [String], root: any ParsableCommand.Type = Logbook.self) throws {
        var command: any ParsableCommand.Type = root
        var path = [root._commandName]
        for word in arguments {
            let subs = command.configuration.subcommands
            guard !subs.isEmpty, command.configuration.defaultSubcommand == nil else { return }
            // Options, `help` and `--` are argument-parser's to handle.
            guard !word.hasPrefix("-"), word != "help" else { return }
            guard let next = subs.first(where: { names($0).contains(word) }) else {
                let verbs = subs.map { $0._commandName }
                let shown = SafeText.escape(word)
                throw LogbookError(.usage, "unknown verb \"\(shown)\" for `\(path.joined(separator: " "))`; the verbs are: \(verbs.joined(separator: ", ")) (see `\(path.joined(separator: " ")) --help`)",
                                   facts: ["verb": .string(word), "verbs": .array(verbs.map { .string($0) })])
            }
            command = next
            path.append(next._commandName)
        }
    }

    /// The names a subcommand answers to: its command name (argument-parser's default is the
    /// type name in kebab case) and its aliases.
    static func names(_ c: any ParsableCommand.Type) -> [String] {
        [c._commandName] + c.configuration.aliases
    }
}
