import ArgumentParser
import LogbookCore
import LogbookEngine
import LogbookFileStore

struct PersonaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "persona", abstract: "Register, list and rotate the keys of personas (agent identities with Ed25519 keys).",
        subcommands: [Add.self, List.self, Rotate.self])

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give a persona a new key pair; a supervisor signs the key change into every live status journal.",
            discussion: """
                Records a supervisor-signed key_changed event in every ACTIVE or VALIDATING status whose plan \
                has the persona, then makes the new key current in personas.json (the old one is kept under \
                retired_keys so that what it signed still verifies) and writes keys/NAME.key. Events signed \
                with the old key before the change verify; after it only the new key is accepted. \
                Interrupted, run it again: it finishes the rotation it finds half done.
                """)
        @Argument(help: "Persona whose key is replaced.") var name: String
        @OptionGroup var who: PersonaOptions
        @OptionGroup var ws: WorkspaceOptions
        @Flag(help: "Print the key_changed events as JSON lines.") var json = false

        func run() async throws {
            try Identifier.check(name, "persona id")
            let w = try ws.open()
            let supervisor = try who.resolvedPersona()
            let signer = try await who.signer(in: w, persona: supervisor)
            let r = try await w.rotateKey(name, supervisor: supervisor, signer: signer)
            if json {
                for e in r.events { print(CanonicalJSON.string(e.event.json)) }
                return
            }
            print("rotated the key of \(r.persona): \(r.oldKeyID) → \(r.newKeyID), private key in keys/\(r.persona).key")
            for (plan, e) in r.events { print("  plan \(plan): " + EventText.line(e)) }
            if !r.alreadyChanged.isEmpty { print("  already trusting the new key: " + r.alreadyChanged.joined(separator: ", ")) }
            if r.events.isEmpty && r.alreadyChanged.isEmpty { print("  no live status has \(r.persona): no key_changed event was needed") }
        }
    }

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
            let r = try await ws.open().personas()
            if json { print(PrettyJSON.string(r.json()), terminator: ""); return }
            for p in r.sorted {
                print("\(p.id.padding(toLength: 22, withPad: " ", startingAt: 0)) \(p.role.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(p.archetype.padding(toLength: 18, withPad: " ", startingAt: 0)) \(p.keyID ?? "unsigned")")
            }
        }
    }
}
