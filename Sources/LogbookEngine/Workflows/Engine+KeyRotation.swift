import Foundation
import LogbookCore

/// What `persona rotate` did.
public struct KeyRotation: Sendable {
    public var persona: String
    public var oldKeyID: String
    public var newKeyID: String
    /// The `key_changed` events recorded, one per live status that trusts the persona.
    public var events: [(plan: String, event: Event)]
    /// Live statuses that already trusted the new key (a resumed rotation).
    public var alreadyChanged: [String]
}

extension LogbookEngine {

    /// Gives `persona` a new Ed25519 key pair: the supervisor-signed `key_changed` event in every
    /// live (ACTIVE or VALIDATING) status journal whose plan has the persona, the new public key in
    /// `personas.json` (the old one kept under `retired_keys`, so what it signed still verifies),
    /// and the new private key in `keys/<persona>.key`.
    ///
    /// The order makes a crash at any point harmless, and running the command again finishes it:
    /// 1. the new private key goes to `keys/<persona>.key.rotating` (0600, synced); a crash here
    ///    leaves a stray file that the next rotation replaces;
    /// 2. `personas.json` gets the new key as current and the old one as retired (atomic
    ///    replace): every journal still trusts the old key and `keys/<persona>.key` still holds
    ///    it, so writers go on as before, and `verify` accepts both keys where the journal says;
    /// 3. `key_changed` is appended to each live journal that still trusts the old key; from then
    ///    writers of that plan sign with the new key (they pick `.rotating` while it exists,
    ///    ``signingKey(for:keyFile:trusting:)``);
    /// 4. `.rotating` is renamed over `keys/<persona>.key` (the old private key is gone).
    ///
    /// A rotation found half done (`.rotating` holds the key `personas.json` calls current) is
    /// resumed from step 3 instead of starting over.
    public func rotateKey(_ persona: String, supervisor: String, signer: SigningKey?) async throws -> KeyRotation {
        try Identifier.check(persona, "persona id")
        return try await catalog.exclusive { () async throws -> KeyRotation in
            var registry = try await catalog.loadPersonas()
            guard let current = registry[persona] else {
                throw LogbookError(.notFound, "unknown persona \(persona): it is not in personas.json", facts: ["persona": .string(persona)])
            }
            guard let oldKey = current.publicKey else {
                throw LogbookError(.badKey, "persona \(persona) is unsigned (no key to rotate)")
            }
            guard let sup = registry[supervisor], sup.role == .supervisor else {
                throw LogbookError(.forbidden, "only a supervisor may rotate a key; \(supervisor) is \(registry[supervisor] == nil ? "not in personas.json" : "a worker")", rule: "supervisor_only")
            }
            guard let keys = signers as? any RotatingSignerSource else {
                throw LogbookError(.unsupported, "this workspace's key source cannot hold a key during a rotation")
            }
            // Step 1, or the key of a rotation that stopped after step 2.
            var newKey: SigningKey
            var previous = oldKey
            if let pending = try? await keys.pendingKey(for: persona),
               pending.publicKey == current.publicKey, let last = current.retiredKeys.last {
                newKey = pending
                previous = last
            } else {
                newKey = SigningKey(generatingFor: persona)
                try await keys.storePendingKey(newKey)
                // Step 2.
                var p = current
                p.retiredKeys.append(oldKey)
                p.publicKey = newKey.publicKey
                registry.personas[persona] = p
                try await catalog.storePersonas(registry)
            }
            // Step 3: every live journal whose plan has the persona.
            var events: [(plan: String, event: Event)] = []
            var already: [String] = []
            for file in try await catalog.listPlans() where file.document.isLocked {
                guard try await journals.journalExists(file.journalRef) else { continue }
                let book = try await book(file)
                let state = try await book.state()
                guard state.lifecycle == .active || state.lifecycle == .validating, let entry = state.personas[persona] else { continue }
                if entry.keyID == newKey.publicKey.keyID { already.append(file.id); continue }
                // The supervisor signs with its key from before the rotation, which this plan
                // still trusts (for its own rotation too: step 4 has not run).
                let data = JSONObject([
                    ("persona", .string(persona)), ("role", .string(entry.role.rawValue)), ("archetype", .string(entry.archetype)),
                    ("key_id", .string(newKey.publicKey.keyID)), ("public_key", .string(newKey.publicKey.base64)),
                    ("previous_key_id", JSONValue(entry.keyID)),
                ])
                do {
                    let e = try await book.submit(EventRequest(type: .keyChanged, task: nil, persona: supervisor, data: data), signer: signer)
                    events.append((file.id, e))
                } catch let e as LogbookError {
                    throw e.with(plan: file.id)
                }
            }
            // Step 4.
            try await keys.commitPendingKey(for: persona)
            return KeyRotation(persona: persona, oldKeyID: previous.keyID, newKeyID: newKey.publicKey.keyID, events: events, alreadyChanged: already)
        }
    }

    /// The private key to sign with for a plan that trusts `trusted` for `persona`: `key` or,
    /// while a rotation is between its steps 3 and 4, the rotation's new key when that is the
    /// one the plan trusts.
    public func signingKey(_ key: SigningKey, trusting trusted: String?) async -> SigningKey {
        guard let trusted, key.publicKey.keyID != trusted, let keys = signers as? any RotatingSignerSource,
              let pending = try? await keys.pendingKey(for: key.persona), pending.publicKey.keyID == trusted
        else { return key }
        return pending
    }
}
