import ArgumentParser
import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore

/// `--workspace DIR` (else LOGBOOK_WORKSPACE, else the nearest folder with a state.txt).
struct WorkspaceOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Workspace folder (default: $LOGBOOK_WORKSPACE, else the nearest folder above holding state.txt).", valueName: "dir"))
    var workspace: String?

    /// The workspace folder (for what only files have: recovery, segments, paths to print).
    func folder() throws -> Workspace { try Workspace.locate(explicit: workspace) }

    /// The engine over the workspace: every workflow goes through it. One per process.
    func open() throws -> LogbookEngine { try folder().engine }
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
    func duringRotation(_ key: SigningKey?, in engine: LogbookEngine, persona: String, trusted: () async throws -> String?) async throws -> SigningKey? {
        guard let key, keyFilePath == nil, let keys = engine.signers as? any RotatingSignerSource,
              (try? await keys.pendingKey(for: persona)) != nil else { return key }
        return await engine.signingKey(key, trusting: try await trusted())
    }

    /// `--key-file`, else `LOGBOOK_KEY_FILE`.
    var keyFilePath: String? {
        keyFile ?? ProcessInfo.processInfo.environment["LOGBOOK_KEY_FILE"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The persona's signing key, or nil for an unsigned persona.
    func signer(in engine: LogbookEngine, persona: String) async throws -> SigningKey? {
        let registry = try await engine.personas()
        guard let entry = registry[persona] else {
            throw LogbookError(.notFound, "unknown persona \(persona): it is not in personas.json (add it with `logbook persona add \(persona)`)",
                              facts: ["persona": .string(persona)])
        }
        guard entry.publicKey != nil else { return nil }
        if let file = keyFilePath { return try await KeyFile(path: file, persona: persona).signingKey(for: persona) }
        return try await engine.signingKey(for: persona)
    }
}
