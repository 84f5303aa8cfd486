/// The seal of a snapshot file: a plan persona's Ed25519 signature over the whole snapshot
/// document, stored in the document itself as `journal.seal` (docs/FORMAT.md, "Snapshot trust").
///
/// ```json
/// "seal": {"format": "logbook-snapshot-seal-1", "persona": "DEV", "key_id": "DEV+1a2b3c4d",
///          "public_key": "<base64, 32 bytes>", "genesis_hash": "sha256:…", "sig": "<base64, 64 bytes>"}
/// ```
///
/// The signed message is ``domain`` followed by the SHA-256 of the RFC 8785 canonical JSON of the
/// document whose `journal.seal` holds every member but `sig`. The seal knows nothing of the
/// snapshot's other fields: any change to any of them (or to the seal) breaks the signature.
public struct SnapshotSeal: Sendable, Equatable {
    public static let format = "logbook-snapshot-seal-1"
    /// Prefixes the signed digest, so a seal's signature is never an event's and vice versa.
    public static let domain = Array("logbook snapshot seal v1\n".utf8)

    public var persona: String
    public var keyID: String
    public var publicKey: [UInt8]
    public var genesisHash: Digest256
    public var sig: [UInt8]

    /// `doc` with a seal by `key` for the journal whose genesis event has hash `genesisHash`.
    public static func seal(_ doc: JSONValue, genesisHash: Digest256, with key: SigningKey) -> JSONValue {
        let pk = key.publicKey
        let unsigned = JSONObject([
            ("format", .string(format)), ("persona", .string(key.persona)), ("key_id", .string(pk.keyID)),
            ("public_key", .string(Base64.encode(pk.raw))), ("genesis_hash", .string(genesisHash.description)),
        ])
        let body = replacingSeal(unsealed(doc), with: unsigned)
        var signed = unsigned
        signed["sig"] = .string(Base64.encode(key.sign(message: message(body))))
        return replacingSeal(doc, with: signed)
    }

    /// The seal a document carries, if it is well-formed (not yet checked).
    public init?(_ doc: JSONValue) {
        guard let s = doc["journal"]?["seal"]?.objectValue, s["format"]?.stringValue == Self.format,
              let persona = s["persona"]?.stringValue, let kid = s["key_id"]?.stringValue,
              let pk = s["public_key"]?.stringValue.flatMap(Base64.decode), pk.count == 32,
              let gh = s["genesis_hash"]?.stringValue.flatMap(Digest256.init),
              let sig = s["sig"]?.stringValue.flatMap(Base64.decode), sig.count == 64 else { return nil }
        self.persona = persona
        self.keyID = kid
        self.publicKey = pk
        self.genesisHash = gh
        self.sig = sig
    }

    /// Why `doc`'s seal does not prove it, or nil when it does: the seal is well-formed, names the
    /// journal whose genesis is `genesis`, its key is the one the genesis records for its persona
    /// (the trust root; the snapshot's own persona map and personas.json are never consulted), and
    /// the signature over the whole document verifies with that key.
    public static func problem(_ doc: JSONValue, genesis: Event) -> String? {
        guard doc["journal"]?["seal"] != nil else { return "it is not sealed" }
        guard let seal = SnapshotSeal(doc) else { return "its seal is malformed" }
        guard seal.genesisHash == genesis.hash else { return "its seal names another genesis (\(seal.genesisHash))" }
        guard let recorded = genesis.data["personas"]?[seal.persona], recorded["key_id"]?.stringValue == seal.keyID else {
            return "its seal's key \(seal.keyID) is not the key the genesis records for \(seal.persona)"
        }
        guard let pk = PublicKey(persona: seal.persona, raw: seal.publicKey), pk.keyID == seal.keyID else {
            return "its seal's public key is not key \(seal.keyID)"
        }
        guard let s = doc["journal"]?["seal"]?.objectValue else { return "its seal is malformed" }
        var unsigned = s
        unsigned["sig"] = nil
        guard pk.isValid(signature: seal.sig, message: message(replacingSeal(doc, with: unsigned))) else {
            return "its seal's signature does not verify with \(seal.keyID)"
        }
        return nil
    }

    /// `doc` without `journal.seal`: the snapshot as derived from the state.
    public static func unsealed(_ doc: JSONValue) -> JSONValue {
        guard doc["journal"]?["seal"] != nil else { return doc }
        return replacingSeal(doc, with: nil)
    }

    /// The snapshot bytes without their seal, pretty-printed as the state prints them (what
    /// `verify` compares with the state it replayed); the bytes as they are if they do not parse.
    public static func unsealedBytes(_ bytes: [UInt8]) -> [UInt8] {
        guard let v = try? JSONParser.parse(bytes), v["journal"]?["seal"] != nil else { return bytes }
        return PrettyJSON.bytes(unsealed(v))
    }

    /// The seq a stored snapshot says it reflects (`journal.seq`), if it parses.
    public static func storedSeq(_ bytes: [UInt8]) -> Int? {
        (try? JSONParser.parse(bytes))?["journal"]?["seq"]?.intValue
    }

    static func message(_ body: JSONValue) -> [UInt8] {
        domain + Digest256.canonical(body).bytes
    }

    static func replacingSeal(_ doc: JSONValue, with seal: JSONObject?) -> JSONValue {
        guard var root = doc.objectValue, var journal = root["journal"]?.objectValue else { return doc }
        journal["seal"] = seal.map { .object($0) }
        root["journal"] = .object(journal)
        return .object(root)
    }
}
