import Crypto
import Foundation

/// `sha256:<64 lowercase hex digits>`, the form every hash takes in Logbook files.
public struct Digest256: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]  // 32 bytes

    public init(bytes: [UInt8]) {
        precondition(bytes.count == 32)
        self.bytes = bytes
    }

    /// SHA-256 of `data`.
    public static func of<D: DataProtocol>(_ data: D) -> Digest256 {
        Digest256(bytes: Array(SHA256.hash(data: data)))
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
        self.bytes = b
    }

    public var description: String { "sha256:" + Hex.encode(bytes) }
    public var hex: String { Hex.encode(bytes) }

    /// SHA-256 over data fed in pieces (segments, files too large to hold).
    public struct Streaming {
        var hasher = SHA256()
        public init() {}
        public mutating func update<D: DataProtocol>(_ data: D) { hasher.update(data: data) }
        public func finish() -> Digest256 { Digest256(bytes: Array(hasher.finalize())) }
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
