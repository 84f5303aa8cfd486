/// The public keys a journal itself records, by key id: every persona's key in the genesis
/// (`data.personas.<id>.public_key`) and each rotated key in a `key_changed` event
/// (`data.public_key`). Statement signatures are checked with these, so a journal carries its
/// own trust roots (personas.json must agree with them: `verify` reports a swapped key).
public struct TrustedKeys: Sendable, Equatable {
    public private(set) var byID: [String: PublicKey] = [:]

    public init() {}

    /// The keys of a genesis event.
    public init(genesis: Event) {
        note(genesis)
    }

    public subscript(keyID: String) -> PublicKey? { byID[keyID] }

    /// Records the keys `e` introduces (a genesis or a `key_changed`); other events add none.
    /// A key is recorded only under the key id its bytes hash to.
    public mutating func note(_ e: Event) {
        switch e.type {
        case .created, .migrated:
            guard let ps = e.data["personas"]?.objectValue else { return }
            for (id, entry) in ps { add(id, entry["public_key"]) }
        case .keyChanged:
            if let id = e.data["persona"]?.stringValue { add(id, e.data["public_key"]) }
        default:
            return
        }
    }

    mutating func add(_ persona: String, _ v: JSONValue?) {
        guard let s = v?.stringValue, let raw = Base64.decode(s), let k = PublicKey(persona: persona, raw: raw) else { return }
        byID[k.keyID] = k
    }
}
