import Crypto

/// A C2SP signed note (https://c2sp.org/signed-note): text signed by one or more Ed25519 keys.
///
/// ```text
/// <text, one or more lines, each ending in "\n">
///
/// — <key name> base64(4-byte key id ‖ 64-byte Ed25519 signature over the text bytes)
/// ```
///
/// The text ends at the last blank line; the key id is ``PublicKey/keyHash`` (the first four
/// bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)). Parsing follows the Go reference
/// (golang.org/x/mod/sumdb/note): valid UTF-8, no control characters but newline, key names
/// without spaces or "+", at most ``maxSignatures`` signature lines.
public struct SignedNote: Sendable, Equatable {
    /// One signature line.
    public struct Signature: Sendable, Equatable {
        public var name: String
        /// The 4-byte key id (big-endian uint32 in the spec's words).
        public var keyHash: [UInt8]
        /// The algorithm's signature bytes (64 for Ed25519).
        public var signature: [UInt8]

        public init(name: String, keyHash: [UInt8], signature: [UInt8]) {
            self.name = name
            self.keyHash = keyHash
            self.signature = signature
        }

        /// `— name base64(keyHash ‖ signature)\n`
        public var line: String { "\u{2014} \(name) \(Base64.encode(keyHash + signature))\n" }

        /// `name+hhhhhhhh`, the key id as Logbook and the Go tools print it.
        public var keyID: String { name + "+" + Hex.encode(keyHash) }
    }

    public static let maxSignatures = 100

    /// The signed text, ending in a newline.
    public var text: String
    public var signatures: [Signature]

    public init(text: String, signatures: [Signature] = []) {
        self.text = text
        self.signatures = signatures
    }

    /// The whole note: text, blank line, signature lines.
    public var serialized: String { text + "\n" + signatures.map(\.line).joined() }

    /// Whether `name` may be a key name: non-empty, no Unicode spaces, no "+".
    public static func isValidKeyName(_ name: String) -> Bool {
        !name.isEmpty && !name.unicodeScalars.contains { $0 == "+" || $0.properties.isWhitespace || $0.value < 0x20 }
    }

    /// Parses a note from bytes, which must be valid UTF-8.
    public init(parsing bytes: [UInt8]) throws(LogbookError) {
        guard let s = String(validating: bytes, as: UTF8.self) else {
            throw LogbookError(.badInput, "malformed signed note: not valid UTF-8")
        }
        try self.init(parsing: s)
    }

    /// Parses a note. Throws `.badInput` naming what is malformed; signatures are not checked here.
    public init(parsing note: String) throws(LogbookError) {
        func bad(_ why: String) -> LogbookError { LogbookError(.badInput, "malformed signed note: \(why)") }
        for (i, u) in note.unicodeScalars.enumerated() where u.value < 0x20 && u != "\n" {
            throw bad("control character U+\(String(u.value, radix: 16, uppercase: true)) at character \(i)")
        }
        let bytes = Array(note.utf8)
        // The text ends at the last blank line: the last "\n\n".
        var split: Int? = nil
        if bytes.count >= 2 {
            for i in stride(from: bytes.count - 2, through: 0, by: -1) where bytes[i] == 0x0A && bytes[i + 1] == 0x0A {
                split = i
                break
            }
        }
        guard let split else { throw bad("no blank line between the text and the signatures") }
        let text = String(decoding: bytes[...split], as: UTF8.self)
        let sigPart = bytes[(split + 2)...]
        guard !sigPart.isEmpty else { throw bad("no signature lines") }
        guard sigPart.last == 0x0A else { throw bad("the last signature line does not end in a newline") }
        var sigs: [Signature] = []
        for raw in sigPart.dropLast().split(separator: 0x0A, omittingEmptySubsequences: false) {
            let line = String(decoding: raw, as: UTF8.self)
            guard line.hasPrefix("\u{2014} ") else { throw bad("signature line \"\(line.prefix(40))\" does not start with an em dash and a space") }
            let parts = line.dropFirst(2).split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, Self.isValidKeyName(String(parts[0])) else {
                throw bad("signature line \"\(line.prefix(40))\" is not \"— <key name> <base64>\"")
            }
            guard let blob = Base64.decode(String(parts[1])), blob.count > 4 else {
                throw bad("the signature of \(parts[0]) is not base64 of a key id and a signature")
            }
            sigs.append(Signature(name: String(parts[0]), keyHash: Array(blob.prefix(4)), signature: Array(blob.dropFirst(4))))
            guard sigs.count <= Self.maxSignatures else { throw bad("more than \(Self.maxSignatures) signatures") }
        }
        self.init(text: text, signatures: sigs)
    }

    /// Adds (or replaces) the signature of `key` over the text. The key name is the persona id.
    public mutating func sign(with key: SigningKey) {
        let pub = key.publicKey
        let sig = Signature(name: pub.persona, keyHash: pub.keyHash, signature: key.sign(message: Array(text.utf8)))
        signatures.removeAll { $0.name == sig.name && $0.keyHash == sig.keyHash }
        signatures.append(sig)
    }

    /// What checking the signatures against a set of trusted keys found.
    public struct Verification: Sendable, Equatable {
        /// The keys whose signatures verified, in note order.
        public var verified: [PublicKey]
        /// Signature lines from keys that are not trusted (ignored, as the spec requires).
        public var unknown: [Signature]
    }

    /// Checks the signatures against `keys` (C2SP rules): a signature whose name and key id match
    /// no key is ignored; one that matches a key must verify, else the whole note is rejected
    /// (`.badSignature`); at least one must verify.
    public func verify(keys: [PublicKey]) throws(LogbookError) -> Verification {
        var out = Verification(verified: [], unknown: [])
        let msg = Array(text.utf8)
        for s in signatures {
            let matches = keys.filter { $0.persona == s.name && $0.keyHash == s.keyHash }
            guard let key = matches.first else {
                out.unknown.append(s)
                continue
            }
            guard matches.count == 1 || Set(matches).count == 1 else {
                throw LogbookError(.badSignature, "ambiguous key \(s.keyID): two trusted keys share its name and id")
            }
            guard key.isValid(signature: s.signature, message: msg) else {
                throw LogbookError(.badSignature, "the signature by \(s.keyID) does not verify over the note text (a forged or altered note)")
            }
            if !out.verified.contains(key) { out.verified.append(key) }
        }
        guard !out.verified.isEmpty else {
            let names = signatures.map(\.keyID).joined(separator: ", ")
            throw LogbookError(.badSignature, "the note has no signature by a trusted key (signed by \(names.isEmpty ? "nobody" : names))")
        }
        return out
    }
}
