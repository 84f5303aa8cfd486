/// What a persona may do: workers report on their tasks; supervisors lock, override and judge.
public enum PersonaRole: String, Sendable, CaseIterable {
    case worker
    case supervisor
}

/// An agent identity: id, role, archetype and (unless unsigned) its Ed25519 public key.
public struct Persona: Sendable, Equatable {
    public var id: String
    public var role: PersonaRole
    public var archetype: String
    public var publicKey: PublicKey?
    /// Keys this persona had before a rotation (`logbook persona rotate`), oldest first: kept so
    /// that events and checkpoints signed before the journal's `key_changed` still verify. Which
    /// key a plan trusts at a given seq is the journal's to say (genesis, then `key_changed`).
    public var retiredKeys: [PublicKey]

    public init(id: String, role: PersonaRole, archetype: String, publicKey: PublicKey?, retiredKeys: [PublicKey] = []) {
        self.id = id
        self.role = role
        self.archetype = archetype
        self.publicKey = publicKey
        self.retiredKeys = retiredKeys
    }

    public var keyID: String? { publicKey?.keyID }
}

/// The trust roots of a workspace (`personas.json`).
///
/// ```json
/// {"allow_unsigned": false,
///  "personas": [{"id": "SUPERVISOR", "role": "supervisor", "archetype": "SUPERVISOR",
///                "public_key": "<base64>", "key_id": "SUPERVISOR+1a2b3c4d"}]}
/// ```
public struct PersonaRegistry: Sendable, Equatable {
    public var personas: [String: Persona]
    /// Whether personas without a key (the ADR's "simple" mode) may write.
    public var allowUnsigned: Bool

    public init(personas: [Persona] = [], allowUnsigned: Bool = false) {
        self.personas = Dictionary(personas.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
        self.allowUnsigned = allowUnsigned
    }

    public subscript(id: String) -> Persona? { personas[id] }

    public var sorted: [Persona] { personas.values.sorted { $0.id < $1.id } }

    /// Every persona's public key by its key id (what an event's `key_id` names).
    public var keysByID: [String: PublicKey] {
        var out: [String: PublicKey] = [:]
        for p in personas.values {
            for k in p.retiredKeys { out[k.keyID] = k }
            if let k = p.publicKey { out[k.keyID] = k }
        }
        return out
    }

    public func json() -> JSONValue {
        .object(JSONObject([
            ("allow_unsigned", .bool(allowUnsigned)),
            ("personas", .array(sorted.map { p in
                var o = JSONObject([("id", .string(p.id)), ("role", .string(p.role.rawValue)), ("archetype", .string(p.archetype))])
                if let k = p.publicKey {
                    o["public_key"] = .string(k.base64)
                    o["key_id"] = .string(k.keyID)
                }
                if !p.retiredKeys.isEmpty {
                    o["retired_keys"] = .array(p.retiredKeys.map { .object(JSONObject([("public_key", .string($0.base64)), ("key_id", .string($0.keyID))])) })
                }
                return .object(o)
            })),
        ]))
    }

    /// Reads `personas.json`; every problem names its JSON path.
    public init(json: JSONValue) throws(LogbookError) {
        // `persona` names the entry concerned once its id is known, so `verify` can say what
        // the genesis recorded for it.
        var persona: String?
        func bad(_ path: String, _ msg: String) -> LogbookError {
            var facts = JSONObject()
            if let persona { facts["persona"] = .string(persona) }
            return LogbookError(.badInput, "personas.json: \(msg)", path: path, facts: facts)
        }
        guard let root = json.objectValue else { throw bad("$", "expected an object, found \(json.kindName)") }
        var allow = false
        if let a = root["allow_unsigned"] {
            guard let b = a.boolValue else { throw bad("allow_unsigned", "expected a boolean") }
            allow = b
        }
        guard let list = root["personas"]?.arrayValue else { throw bad("personas", "expected an array of personas") }
        var out: [Persona] = []
        var seen = Set<String>()
        for (i, item) in list.enumerated() {
            persona = nil
            let path = "personas[\(i)]"
            guard let o = item.objectValue else { throw bad(path, "expected an object") }
            guard let id = o["id"]?.stringValue, Identifier.isValid(id) else { throw bad("\(path).id", "expected a valid persona id") }
            guard seen.insert(id).inserted else { throw bad("\(path).id", "duplicate persona \(id)") }
            persona = id
            guard let r = o["role"]?.stringValue, let role = PersonaRole(rawValue: r) else {
                throw bad("\(path).role", "expected \"worker\" or \"supervisor\"")
            }
            guard let arch = o["archetype"]?.stringValue, Identifier.isValid(arch) else {
                throw bad("\(path).archetype", "expected a valid archetype id")
            }
            var key: PublicKey? = nil
            if let pk = o["public_key"], !pk.isNull {
                guard let s = pk.stringValue, let raw = Base64.decode(s), let k = PublicKey(persona: id, raw: raw) else {
                    throw bad("\(path).public_key", "expected the base64 of a 32-byte Ed25519 public key")
                }
                if let kid = o["key_id"]?.stringValue, kid != k.keyID {
                    throw bad("\(path).key_id", "key_id \(kid) does not match the public key (expected \(k.keyID))")
                }
                key = k
            }
            var retired: [PublicKey] = []
            if let list = o["retired_keys"], !list.isNull {
                guard let items = list.arrayValue else { throw bad("\(path).retired_keys", "expected an array of keys") }
                for (j, item) in items.enumerated() {
                    let kp = "\(path).retired_keys[\(j)]"
                    guard let s = item["public_key"]?.stringValue, let raw = Base64.decode(s), let k = PublicKey(persona: id, raw: raw) else {
                        throw bad("\(kp).public_key", "expected the base64 of a 32-byte Ed25519 public key")
                    }
                    if let kid = item["key_id"]?.stringValue, kid != k.keyID {
                        throw bad("\(kp).key_id", "key_id \(kid) does not match the public key (expected \(k.keyID))")
                    }
                    retired.append(k)
                }
            }
            out.append(Persona(id: id, role: role, archetype: arch, publicKey: key, retiredKeys: retired))
        }
        self.init(personas: out, allowUnsigned: allow)
    }
}
