import ArgumentParser
import Foundation
import LogbookCore
import LogbookEngine
import LogbookClient
import LogbookFileStore

/// `--workspace DIR` (else LOGBOOK_WORKSPACE, else the nearest folder with a state.txt).
struct WorkspaceOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Workspace folder (default: $LOGBOOK_WORKSPACE, else the nearest folder above holding state.txt).", valueName: "dir"))
    var workspace: String?

    @Option(name: .long, help: ArgumentHelp("A Logbook server to talk to instead of a workspace (default: $LOGBOOK_SERVER): the task verbs, task list|show|wait, status, log, watch, verify and plan list.", valueName: "url"))
    var server: String?

    @Option(name: .customLong("read-token-file"), help: ArgumentHelp("With --server: a file holding the server's read token (default: $LOGBOOK_READ_TOKEN).", valueName: "file"))
    var readTokenFile: String?

    /// The workspace folder (for what only files have: recovery, segments, paths to print).
    func folder() throws -> Workspace {
        try refuseServer()
        return try Workspace.locate(explicit: workspace)
    }

    /// The engine over the workspace: every workflow goes through it. One per process.
    func open() throws -> LogbookEngine { try folder().engine }

    /// `--server`, else `LOGBOOK_SERVER` (unless `--workspace` was given).
    var serverURL: String? {
        if let server { return server }
        guard workspace == nil else { return nil }
        return ProcessInfo.processInfo.environment["LOGBOOK_SERVER"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The server to talk to, when the command line or the environment names one.
    func remote() throws -> RemoteLogbook? {
        guard let url = serverURL else { return nil }
        if server != nil, workspace != nil {
            throw LogbookError(.usage, "give --workspace DIR or --server URL, not both")
        }
        var token = ProcessInfo.processInfo.environment["LOGBOOK_READ_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        if let readTokenFile {
            guard let data = FileManager.default.contents(atPath: readTokenFile) else {
                throw LogbookError(.notFound, "cannot read the read token file \(readTokenFile)", path: readTokenFile)
            }
            token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return try RemoteLogbook(server: url, readToken: token)
    }

    /// Commands that need the workspace itself refuse `--server` instead of ignoring it.
    func refuseServer() throws {
        guard server != nil else { return }
        let verb = CommandLine.arguments.dropFirst().prefix { $0.hasPrefix("-") == false }.joined(separator: " ")
        throw LogbookError(.usage, "`logbook \(verb)` works on a workspace, not a server: drop --server (it serves the task verbs, task list|show|wait, status, log, watch, verify and plan list)")
    }
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

    /// The persona's key for a remote write: `--key-file`, else `$LOGBOOK_KEY_FILE`, else
    /// `<$LOGBOOK_KEY_DIR or ./keys>/<persona>.key`. It stays in this process: only the
    /// statement and its signature are sent.
    func remoteSigner(persona: String) async throws -> SigningKey {
        let dir = ProcessInfo.processInfo.environment["LOGBOOK_KEY_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "keys"
        let path = keyFilePath ?? "\(dir)/\(persona).key"
        guard FileManager.default.fileExists(atPath: path) else {
            throw LogbookError(.notFound, "no private key for \(persona): a write to a server is signed here; give --key-file F (or set LOGBOOK_KEY_FILE or LOGBOOK_KEY_DIR)",
                               path: path, facts: ["persona": .string(persona)])
        }
        return try await KeyFile(path: path, persona: persona).signingKey(for: persona)
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
