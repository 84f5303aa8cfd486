import Foundation

/// Standard base64 with padding (RFC 4648 §4), strict on decode: a value has one spelling only.
public enum Base64 {
    public static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
    }

    /// Returns nil unless `text` is the exact canonical encoding of some bytes.
    public static func decode(_ text: String) -> [UInt8]? {
        guard let d = Data(base64Encoded: text) else { return nil }
        let bytes = Array(d)
        return encode(bytes) == text ? bytes : nil
    }
}
