import LogbookCore
import LogbookEngine

/// A ``SignerSource`` of one explicit key file for one persona (`--key-file`,
/// `LOGBOOK_KEY_FILE`), with the key folder's checks (regular file, no symbolic link, mode
/// 0600). Other personas' keys come from `fallback` (the workspace's key folder), or are
/// refused.
///
/// ```swift
/// let signers = KeyFile(path: "/run/secrets/worker.key", persona: "WORKER", fallback: ws.storage.signers)
/// ```
public struct KeyFile: SignerSource {
    public let path: String
    public let persona: String
    public let fallback: (any SignerSource)?
    let ops: any FileOps

    public init(path: String, persona: String, fallback: (any SignerSource)? = nil, ops: any FileOps = PosixFileOps()) {
        self.path = path
        self.persona = persona
        self.fallback = fallback
        self.ops = ops
    }

    public func signingKey(for persona: String) async throws -> SigningKey {
        try Identifier.check(persona, "persona id")
        guard persona == self.persona else {
            if let fallback { return try await fallback.signingKey(for: persona) }
            throw LogbookError(.badKey, "the key file \(path) is the key of persona \(self.persona); there is no private key for persona \(persona) here")
        }
        return try KeyFileReader(ops: ops).read(path, persona: persona)
    }

    /// A key file is given, never written: `.unsupported`.
    public func storeNewKey(_ key: SigningKey) async throws {
        throw LogbookError(.unsupported, "the key file \(path) is only read; a new key for \(key.persona) is kept in the workspace's keys/ folder")
    }
}
