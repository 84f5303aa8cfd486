import Foundation
import Crypto

/// A persona's Ed25519 private key. Never printed, never written to a journal or report.
public struct SigningKey: @unchecked Sendable {  // the key is immutable after init
    let key: Curve25519.Signing.PrivateKey
    public let persona: String

    /// A fresh random key for `persona`.
    public init(generatingFor persona: String) {
        self.key = Curve25519.Signing.PrivateKey()
        self.persona = persona
    }

    /// A key from its 32-byte seed.
    public init(persona: String, seed: [UInt8]) throws {
        do { self.key = try Curve25519.Signing.PrivateKey(rawRepresentation: seed) } catch {
            throw LogbookError(.badKey, "the private key of persona \(persona) is not a 32-byte Ed25519 seed")
        }
        self.persona = persona
    }

    public var seed: [UInt8] { Array(key.rawRepresentation) }
    public var publicKey: PublicKey { PublicKey(persona: persona, raw: Array(key.publicKey.rawRepresentation))! }

    /// Ed25519 signature over the 32 raw digest bytes (events).
    public func sign(_ digest: Digest256) -> [UInt8] {
        sign(message: digest.bytes)
    }

    /// Ed25519 signature over `message` (RFC 8032; deterministic): signed notes sign their text.
    public func sign(message: [UInt8]) -> [UInt8] {
        Array(try! key.signature(for: message))
    }

    /// The seed in the key file's text form (base64 and a newline).
    public var fileText: String { Base64.encode(seed) + "\n" }

    /// Reads a key file's text.
    public init(persona: String, fileText: String) throws {
        let t = fileText.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let seed = Base64.decode(t), seed.count == 32 else {
            throw LogbookError(.badKey, "the key file of persona \(persona) does not hold a base64 32-byte Ed25519 seed")
        }
        try self.init(persona: persona, seed: seed)
    }
}

/// A persona's Ed25519 public key, and its key id.
///
/// The key id follows the C2SP signed-note convention: the first 4 bytes of
/// SHA-256(name ‖ 0x0A ‖ 0x01 ‖ 32-byte public key), written `NAME+hhhhhhhh`.
public struct PublicKey: Sendable, Hashable {
    public let persona: String
    public let raw: [UInt8]

    public init?(persona: String, raw: [UInt8]) {
        guard raw.count == 32, (try? Curve25519.Signing.PublicKey(rawRepresentation: raw)) != nil else { return nil }
        self.persona = persona
        self.raw = raw
    }

    public var keyID: String { persona + "+" + Hex.encode(keyHash) }

    /// The 4-byte key hash of the C2SP note format.
    public var keyHash: [UInt8] {
        Array(Digest256.of(Array(persona.utf8) + [0x0A, 0x01] + raw).bytes.prefix(4))
    }

    public var base64: String { Base64.encode(raw) }

    public func isValid(signature: [UInt8], for digest: Digest256) -> Bool {
        isValid(signature: signature, message: digest.bytes)
    }

    /// Whether `signature` is this key's Ed25519 signature of `message`.
    public func isValid(signature: [UInt8], message: [UInt8]) -> Bool {
        guard signature.count == 64, let k = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else { return false }
        return k.isValidSignature(signature, for: message)
    }
}
