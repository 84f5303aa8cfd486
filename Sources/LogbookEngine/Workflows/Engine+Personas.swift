import Foundation
import LogbookCore

extension LogbookEngine {
    /// The persona registry (the workspace's trust roots).
    public func personas() async throws -> PersonaRegistry {
        try await catalog.loadPersonas()
    }

    /// Adds a persona. A signed persona gets a new Ed25519 key pair: the private key goes to the
    /// signer source (``SignerSource/storeNewKey(_:)``: `keys/<id>.key` on files, mode 0600), the
    /// public key to the registry.
    ///
    /// - Throws: `.alreadyExists` for a persona id in use; `.badInput` for an unsigned persona in
    ///   a workspace that does not accept them. Nothing is written then.
    @discardableResult
    public func addPersona(_ id: String, role: PersonaRole, archetype: String? = nil, signed: Bool = true) async throws -> Persona {
        try Identifier.check(id, "persona id")
        let arch = archetype ?? id
        try Identifier.check(arch, "archetype")
        return try await catalog.exclusive {
            var registry = try await catalog.loadPersonas()
            if registry[id] != nil { throw LogbookError(.alreadyExists, "persona \(id) already exists in personas.json") }
            if !signed && !registry.allowUnsigned {
                throw LogbookError(.badInput, "this workspace does not accept unsigned personas (create it with `logbook init --allow-unsigned`)")
            }
            var key: SigningKey? = nil
            if signed {
                let k = SigningKey(generatingFor: id)
                try await signers.storeNewKey(k)
                key = k
            }
            let p = Persona(id: id, role: role, archetype: arch, publicKey: key?.publicKey)
            registry.personas[id] = p
            try await catalog.storePersonas(registry)
            return p
        }
    }

    /// The signing key of `persona` from the signer source.
    public func signingKey(for persona: String) async throws -> SigningKey {
        try Identifier.check(persona, "persona id")
        return try await signers.signingKey(for: persona)
    }
}

public enum TrustRoots: Sendable {
    case registry(PersonaRegistry)
    case damaged(VerifyReport.Failure)
}

extension LogbookEngine {
    /// `personas.json` as `verify` needs it: the trust roots, or, when the file is damaged (not
    /// JSON, a malformed or mismatched key), a verification failure (kind `key_swapped`, exit 6)
    /// that names what the plan's genesis recorded for the persona concerned, not a bad-input
    /// error: the file is stored data the journal's check depends on.
    public func trustRoots(verifying file: PlanFile) async throws -> TrustRoots {
        do {
            return .registry(try await catalog.loadPersonas())
        } catch let e as LogbookError where e.code == .badInput {
            let recorded = try? await genesisPersonas(file)
            let persona = e.facts["persona"]?.stringValue
            var said = ""
            if let recorded {
                if let persona, let entry = recorded[persona] {
                    said = "; the genesis recorded \(persona) as \(Self.describe(entry))"
                } else {
                    said = "; the genesis recorded " + recorded.map { "\($0.key) as \(Self.describe($0.value))" }.joined(separator: ", ")
                }
            }
            let at = e.path.map { " at \($0)" } ?? ""
            return .damaged(VerifyReport.Failure(seq: 0, kind: .keySwapped, message: "the trust roots are damaged: \(e.message)\(at)\(said)"))
        }
    }

    /// The personas (role, archetype, key id) the genesis of `file` recorded.
    func genesisPersonas(_ file: PlanFile) async throws -> JSONObject? {
        guard let first = try await journals.read(file.journalRef, from: 0, limit: 1).first else { return nil }
        return try Event(line: first.bytes).data["personas"]?.objectValue
    }

    static func describe(_ entry: JSONValue) -> String {
        "\(entry["role"]?.stringValue ?? "?") \(entry["archetype"]?.stringValue ?? "?") with key \(entry["key_id"]?.stringValue ?? "none")"
    }
}
