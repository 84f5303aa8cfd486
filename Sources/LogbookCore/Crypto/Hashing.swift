import Crypto
import Foundation

/// `sha256:<64 lowercase hex digits>`, the form every hash takes in Logbook files.
public struct Digest256: Sendable, Hashable, CustomStringConvertible {
    // Four words, not an array: a digest is copied, compared and hashed on every fold and every
    // history lookup, and an array would make each of those a heap reference to count.
    private var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    /// The 32 bytes, in order.
    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        for k in 0..<32 {
            let w = k < 8 ? w0 : k < 16 ? w1 : k < 24 ? w2 : w3
            out[k] = UInt8(truncatingIfNeeded: w >> (56 - 8 * UInt64(k & 7)))
        }
        return out
    }

    public init(bytes: [UInt8]) {
        precondition(bytes.count == 32)
        self.init(words: bytes)
    }

    private init<S: Sequence>(words bytes: S) where S.Element == UInt8 {
        var a: UInt64 = 0, b: UInt64 = 0, c: UInt64 = 0, d: UInt64 = 0
        for (k, byte) in bytes.enumerated() {
            switch k >> 3 {
            case 0: a = a << 8 | UInt64(byte)
            case 1: b = b << 8 | UInt64(byte)
            case 2: c = c << 8 | UInt64(byte)
            default: d = d << 8 | UInt64(byte)
            }
        }
        (w0, w1, w2, w3) = (a, b, c, d)
    }

    /// SHA-256 of `data`.
    public static func of<D: DataProtocol>(_ data: D) -> Digest256 {
        Digest256(words: SHA256.hash(data: data))
    }

    /// SHA-256 of the RFC 8785 canonical form of `value`.
    public static func canonical(_ value: JSONValue) -> Digest256 {
        of(CanonicalJSON.bytes(value))
    }

    /// Parses `sha256:` followed by 64 lowercase hex digits.
    public init?(_ text: String) {
        guard text.hasPrefix("sha256:") else { return nil }
        let hex = text.utf8.dropFirst(7)
        guard hex.count == 64, let b = Hex.decode(hex) else { return nil }
        self.init(words: b)
    }

    public var description: String { "sha256:" + Hex.encode(bytes) }
    public var hex: String { Hex.encode(bytes) }

    /// SHA-256 over data fed in pieces (segments, files too large to hold).
    public struct Streaming {
        var hasher = SHA256()
        public init() {}
        public mutating func update<D: DataProtocol>(_ data: D) { hasher.update(data: data) }
        public func finish() -> Digest256 { Digest256(words: hasher.finalize()) }
    }
}

/// Lowercase hexadecimal.
public enum Hex {
    public static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes lowercase hex only, so that each value has exactly one spelling.
    public static func decode<C: Collection>(_ chars: C) -> [UInt8]? where C.Element == UInt8 {
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var hi: UInt8? = nil
        for c in chars {
            let v: UInt8
            switch c {
            case 0x30...0x39: v = c - 0x30
            case 0x61...0x66: v = c - 0x61 + 10
            default: return nil
            }
            if let h = hi { out.append(h << 4 | v); hi = nil } else { hi = v }
        }
        return out
    }
}
