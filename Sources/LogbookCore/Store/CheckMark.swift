/// A writer's signed word that it checked the signature of every line of a journal up to `seq`,
/// the line whose chain hash is `hash`. Stores keep the newest beside the journal so that other
/// processes catching up on those lines check one signature (the mark's) instead of one per
/// line (docs/FORMAT.md §4b).
///
/// A mark proves nothing by itself: a reader uses it only when it verifies with the key the
/// journal trusts now for the mark's persona, and only for lines whose chain ends in `hash` at
/// `seq` (each line's hash is recomputed and linked as always), so editing a line, the mark or
/// both without a key makes the reader check every line itself. `verify` never uses marks.
public struct CheckMark: Sendable, Equatable {
    public var seq: Int
    public var hash: Digest256
    public var keyID: String
    public var sig: [UInt8]

    /// Signs the mark for `ref`'s journal at (`seq`, `hash`) with `key`.
    public init(_ ref: JournalRef, seq: Int, hash: Digest256, signedBy key: SigningKey) {
        self.seq = seq
        self.hash = hash
        keyID = key.publicKey.keyID
        sig = key.sign(message: Self.message(ref, seq: seq, hash: hash))
    }

    init(seq: Int, hash: Digest256, keyID: String, sig: [UInt8]) {
        self.seq = seq
        self.hash = hash
        self.keyID = keyID
        self.sig = sig
    }

    /// What the signature covers: a domain tag, the journal (plan id and g) and the position.
    static func message(_ ref: JournalRef, seq: Int, hash: Digest256) -> [UInt8] {
        Array("logbook check mark v1\n\(ref.planID)\n\(ref.g)\n\(seq)\n\(hash)".utf8)
    }

    /// Whether the signature is `key`'s over this mark for `ref`.
    public func isSigned(for ref: JournalRef, by key: PublicKey) -> Bool {
        key.keyID == keyID && key.isValid(signature: sig, message: Self.message(ref, seq: seq, hash: hash))
    }

    /// The stored form: `seq hash key_id sig-base64`, one line of text (opaque to stores).
    public var bytes: [UInt8] {
        Array("\(seq) \(hash) \(keyID) \(Base64.encode(sig))".utf8)
    }

    /// Parses ``bytes``; nil for anything else (a torn or edited record is simply not used).
    public init?(bytes: [UInt8]) {
        let parts = bytes.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 4, parts[2].count <= 64,
              let seq = Int(String(decoding: parts[0], as: UTF8.self)), seq >= 0,
              let hash = Digest256(String(decoding: parts[1], as: UTF8.self)),
              let sig = Base64.decode(String(decoding: parts[3], as: UTF8.self)), sig.count == 64 else { return nil }
        self.init(seq: seq, hash: hash, keyID: String(decoding: parts[2], as: UTF8.self), sig: sig)
    }
}

/// What the `build` of ``JournalStore/append(_:from:marking:)`` returns: the lines to append and
/// the check mark to keep with them (nil: none).
public struct MarkedLines: Sendable {
    public var lines: [[UInt8]]
    public var checkMark: [UInt8]?

    public init(lines: [[UInt8]], checkMark: [UInt8]? = nil) {
        self.lines = lines
        self.checkMark = checkMark
    }
}
