import ArgumentParser
import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore

/// `--workspace DIR` (else LOGBOOK_WORKSPACE, else the nearest folder with a state.txt).
struct WorkspaceOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Workspace folder (default: $LOGBOOK_WORKSPACE, else the nearest folder above holding state.txt).", valueName: "dir"))
    var workspace: String?

    func open() throws -> Workspace { try Workspace.locate(explicit: workspace) }
}

/// Who writes: `--persona P` and where its private key is.
struct PersonaOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Persona writing the event (default: $LOGBOOK_PERSONA).", valueName: "persona"))
    var persona: String?

    @Option(name: .long, help: ArgumentHelp("Private key file (default: $LOGBOOK_KEY_FILE, else keys/<persona>.key).", valueName: "file"))
    var keyFile: String?

    func resolvedPersona() throws -> String {
        guard let p = persona ?? ProcessInfo.processInfo.environment["LOGBOOK_PERSONA"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw LogbookError(.badInput, "missing --persona (or set LOGBOOK_PERSONA)")
        }
        try Identifier.check(p, "persona id")
        return p
    }

    /// `key`, or while a key rotation of the persona is half done (``Workspace/rotateKey(_:supervisor:signer:)``)
    /// the rotation's new key where the plan already trusts it; `trusted` (asked only then)
    /// names the key the plan trusts.
    func duringRotation(_ key: SigningKey?, in ws: Workspace, persona: String, trusted: () async throws -> String?) async throws -> SigningKey? {
        let file = keyFile ?? ProcessInfo.processInfo.environment["LOGBOOK_KEY_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        guard let key, file == nil, FileManager.default.fileExists(atPath: ws.pendingKeyPath(persona)) else { return key }
        return try ws.signingKey(for: persona, keyFile: nil, trusting: try await trusted())
    }

    /// The persona's signing key, or nil for an unsigned persona.
    func signer(in ws: Workspace, persona: String) throws -> SigningKey? {
        let registry = try ws.personas()
        guard let entry = registry[persona] else {
            throw LogbookError(.notFound, "unknown persona \(persona): it is not in personas.json (add it with `logbook persona add \(persona)`)",
                              facts: ["persona": .string(persona)])
        }
        guard entry.publicKey != nil else { return nil }
        let file = keyFile ?? ProcessInfo.processInfo.environment["LOGBOOK_KEY_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        return try ws.signingKey(for: persona, keyFile: file)
    }
}
