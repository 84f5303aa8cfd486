import Synchronization
import LogbookCore

/// Where a persona's private key comes from: a key folder (`keys/<P>.key`), one key file, or
/// the agent's own process. The engine never stores a private key anywhere else, and a store
/// never sees one.
///
/// ```swift
/// let key = try await signers.signingKey(for: "CODING_ASSISTANT")
/// ```
public protocol SignerSource: Sendable {
    /// The private key of `persona`.
    ///
    /// - Throws: `.badKey` naming where it looked (and how to give one) when there is none or
    ///   it cannot be used (wrong mode, damaged).
    func signingKey(for persona: String) async throws -> SigningKey

    /// Keeps a newly generated key (`logbook persona add`); `.unsupported` for a source that
    /// only lends keys.
    func storeNewKey(_ key: SigningKey) async throws
}

/// A signer source that can hold a persona's next key while a key rotation is under way
/// (files: `keys/<P>.key.rotating`), so a crash at any step of the rotation is harmless and
/// running it again finishes it.
public protocol RotatingSignerSource: SignerSource {
    /// The key of a rotation under way, if any.
    func pendingKey(for persona: String) async throws -> SigningKey?
    /// Keeps `key` as the pending key of its persona (durably, private).
    func storePendingKey(_ key: SigningKey) async throws
    /// Makes the pending key the persona's key (the old private key is gone).
    func commitPendingKey(for persona: String) async throws
}

/// Keys held in this process (tests, an agent that holds its own key, the demo).
public final class InMemorySigners: RotatingSignerSource {
    let keys: Mutex<[String: SigningKey]>
    let pending = Mutex<[String: SigningKey]>([:])

    public init(_ keys: [SigningKey] = []) {
        self.keys = Mutex(Dictionary(keys.map { ($0.persona, $0) }, uniquingKeysWith: { $1 }))
    }

    public func signingKey(for persona: String) async throws -> SigningKey {
        guard let k = keys.withLock({ $0[persona] }) else {
            throw LogbookError(.badKey, "no private key for persona \(persona) in this process")
        }
        return k
    }

    public func storeNewKey(_ key: SigningKey) async throws {
        keys.withLock { $0[key.persona] = key }
    }

    public func pendingKey(for persona: String) async throws -> SigningKey? {
        pending.withLock { $0[persona] }
    }

    public func storePendingKey(_ key: SigningKey) async throws {
        pending.withLock { $0[key.persona] = key }
    }

    public func commitPendingKey(for persona: String) async throws {
        guard let key = pending.withLock({ $0.removeValue(forKey: persona) }) else {
            throw LogbookError(.notFound, "no key rotation of persona \(persona) is under way")
        }
        keys.withLock { $0[persona] = key }
    }
}
