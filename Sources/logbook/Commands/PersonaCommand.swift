import ArgumentParser
import LogbookCore
import LogbookFileStore

struct PersonaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "persona", abstract: "Register and list personas (agent identities with Ed25519 keys).",
        subcommands: [Add.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a persona and generate its key pair (private key in keys/NAME.key, mode 0600).")

        @Argument(help: "Persona id, e.g. CODING_ASSISTANT.") var name: String
        @Flag(help: "A supervisor: locks plans, overrides rules, validates.") var supervisor = false
        @Option(help: "Archetype (default: the persona id).") var archetype: String?
        @Flag(help: "No key: events are unsigned (only where the workspace allows it).") var unsigned = false
        @OptionGroup var ws: WorkspaceOptions

        func run() async throws {
            let w = try ws.open()
            let p = try await w.addPersona(name, role: supervisor ? .supervisor : .worker, archetype: archetype, signed: !unsigned)
            print("added \(p.role.rawValue) \(p.id) (archetype \(p.archetype))" + (p.keyID.map { ", key \($0), private key in keys/\(p.id).key" } ?? ", unsigned"))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List personas and their key ids.")
        @OptionGroup var ws: WorkspaceOptions
        @Flag(help: "Print personas.json.") var json = false

        func run() async throws {
            let r = try ws.open().personas()
            if json { print(PrettyJSON.string(r.json()), terminator: ""); return }
            for p in r.sorted {
                print("\(p.id.padding(toLength: 22, withPad: " ", startingAt: 0)) \(p.role.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(p.archetype.padding(toLength: 18, withPad: " ", startingAt: 0)) \(p.keyID ?? "unsigned")")
            }
        }
    }
}
