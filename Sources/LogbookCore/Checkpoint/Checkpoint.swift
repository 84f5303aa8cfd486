/// A signed tree head in the C2SP transparency-log checkpoint format
/// (https://c2sp.org/tlog-checkpoint): a ``SignedNote`` whose text is
///
/// ```text
/// logbook/<workspace id>/<plan id>
/// <tree size, decimal>
/// <base64 of the RFC 6962 root over the first `size` event hashes>
///
/// — SUPERVISOR <base64(key id ‖ Ed25519 signature over the three lines above)>
/// ```
///
/// Key names are persona ids, so `sumdb/note`-style verifiers read it with the persona's key
/// (`SUPERVISOR+<key hash>+<base64(0x01 ‖ public key)>`). A checkpoint fixes the journal's first
/// `size` events: a journal that later has fewer (a rollback) or other events under the same
/// size (a rewritten history, a fork) no longer matches it.
///
/// ```swift
/// var cp = Checkpoint(origin: Checkpoint.origin(workspaceID: "ws-1", planID: "EP-1"), size: tree.size, root: tree.root)
/// cp.sign(with: supervisorKey)
/// let again = try Checkpoint(parsing: cp.text)
/// let signers = try again.verify(registry: personas)
/// ```
public struct Checkpoint: Sendable, Equatable {
    public var origin: String
    public var size: Int
    public var root: Digest256
    /// Optional extension lines after the root (opaque; Logbook writes none).
    public var extensions: [String]
    public var signatures: [SignedNote.Signature]

    public init(origin: String, size: Int, root: Digest256, extensions: [String] = [], signatures: [SignedNote.Signature] = []) {
        self.origin = origin
        self.size = size
        self.root = root
        self.extensions = extensions
        self.signatures = signatures
    }

    /// `logbook/<workspace id>/<plan id>`.
    public static func origin(workspaceID: String, planID: String) -> String { "logbook/\(workspaceID)/\(planID)" }

    /// The signed text: origin, size, base64 root, extension lines, each ending in "\n".
    public var body: String {
        ([origin, String(size), Base64.encode(root.bytes)] + extensions).map { $0 + "\n" }.joined()
    }

    public var note: SignedNote { SignedNote(text: body, signatures: signatures) }

    /// The whole checkpoint file: body, blank line, signature lines.
    public var text: String { note.serialized }

    /// Adds (or replaces) `key`'s signature over the body.
    public mutating func sign(with key: SigningKey) {
        var n = note
        n.sign(with: key)
        signatures = n.signatures
    }

    /// Parses a checkpoint file (signatures are not checked here).
    public init(parsing bytes: [UInt8]) throws(LogbookError) {
        try self.init(note: SignedNote(parsing: bytes))
    }

    /// Parses a checkpoint (signatures are not checked here).
    public init(parsing text: String) throws(LogbookError) {
        try self.init(note: SignedNote(parsing: text))
    }

    public init(note: SignedNote) throws(LogbookError) {
        func bad(_ why: String) -> LogbookError { LogbookError(.badInput, "malformed checkpoint: \(why)") }
        var lines = note.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        guard lines.count >= 3 else { throw bad("the text has \(lines.count) lines; a checkpoint has origin, tree size and root hash") }
        guard !lines[0].isEmpty else { throw bad("the origin line is empty") }
        let sizeText = lines[1]
        guard !sizeText.isEmpty, sizeText.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
              sizeText == "0" || !sizeText.hasPrefix("0"), let size = Int(sizeText) else {
            throw bad("the tree size \"\(sizeText.prefix(40))\" is not a decimal number without leading zeros")
        }
        guard let root = Base64.decode(lines[2]), root.count == 32 else {
            throw bad("the root hash \"\(lines[2].prefix(60))\" is not the base64 of 32 bytes")
        }
        let ext = Array(lines.dropFirst(3))
        if ext.contains(where: \.isEmpty) { throw bad("an extension line is empty") }
        self.init(origin: lines[0], size: size, root: Digest256(bytes: root), extensions: ext, signatures: note.signatures)
    }

    /// Checks the signatures against trusted keys (see ``SignedNote/verify(keys:)``).
    public func verify(keys: [PublicKey]) throws(LogbookError) -> SignedNote.Verification {
        try note.verify(keys: keys)
    }

    /// Checks the signatures against the workspace's personas: signatures by unknown keys are
    /// ignored, a signature by a persona's key that fails is an error, at least one must verify
    /// and (unless `requireSupervisor` is false) one of those must be a supervisor's.
    ///
    /// - Returns: the personas whose signatures verified, in note order.
    /// - Throws: `.badSignature` naming the key or the missing signer.
    @discardableResult
    public func verify(registry: PersonaRegistry, requireSupervisor: Bool = true) throws(LogbookError) -> [Persona] {
        // Retired keys too: a checkpoint signed before its signer's key was rotated still verifies.
        let keys = registry.sorted.flatMap { $0.retiredKeys + ($0.publicKey.map { [$0] } ?? []) }
        let v: SignedNote.Verification
        do { v = try verify(keys: keys) } catch {
            throw LogbookError(error.code, "checkpoint \(origin) at size \(size): \(error.message)")
        }
        let signers = v.verified.compactMap { registry[$0.persona] }
        if requireSupervisor, !signers.contains(where: { $0.role == .supervisor }) {
            throw LogbookError(.badSignature, "checkpoint \(origin) at size \(size) is signed by \(signers.map(\.id).joined(separator: ", ")) but by no supervisor")
        }
        return signers
    }

    /// One line for people: `size 42, root <base64>, signed by SUPERVISOR, QA`.
    public var summary: String {
        "size \(size), root \(Base64.encode(root.bytes)), signed by \(signatures.map(\.name).joined(separator: ", "))"
    }
}
