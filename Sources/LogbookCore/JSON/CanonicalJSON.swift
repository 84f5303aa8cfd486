/// RFC 8785 JSON Canonicalization Scheme (JCS): the exact bytes Logbook hashes and signs.
///
/// Members are sorted by their UTF-16 code units, strings use the minimal escapes of
/// ECMAScript's `JSON.stringify`, and numbers use ECMAScript's `Number.prototype.toString`.
/// No whitespace is emitted.
///
/// ```swift
/// CanonicalJSON.string(["b": 1, "a": [true, 4.50]])   // {"a":[true,4.5],"b":1}
/// ```
public enum CanonicalJSON {
    public static func bytes(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        write(value, into: &out)
        return out
    }

    public static func string(_ value: JSONValue) -> String {
        String(decoding: bytes(value), as: UTF8.self)
    }

    public static func write(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(let b): out.append(contentsOf: b ? Array("true".utf8) : Array("false".utf8))
        case .number(let d): writeNumber(d, into: &out)
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                write(item, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let obj):
            out.append(UInt8(ascii: "{"))
            for (i, member) in sortedMembers(obj).enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                writeString(member.key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(member.value, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Members in RFC 8785 order: by UTF-16 code units of the key. Objects are mostly in that
    /// order already (parsed from canonical lines, or built in it), so that is checked first.
    static func sortedMembers(_ obj: JSONObject) -> [(key: String, value: JSONValue)] {
        let m = obj.members
        var ordered = true
        for i in m.indices.dropFirst() where !keyPrecedes(m[i - 1].key, m[i].key) {
            ordered = false
            break
        }
        return ordered ? m : m.sorted { a, b in keyPrecedes(a.key, b.key) }
    }

    /// UTF-16 code-unit order of two keys. For keys whose UTF-8 has no byte at or above 0xEE
    /// (no character at or above U+E000), UTF-16 order is code-point order, which is UTF-8
    /// byte order: one comparison of contiguous bytes. Otherwise the UTF-16 units are compared.
    static func keyPrecedes(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        let fast: Bool? = a.withUTF8 { x in
            b.withUTF8 { y -> Bool? in
                if x.contains(where: { $0 >= 0xEE }) || y.contains(where: { $0 >= 0xEE }) { return nil }
                return x.lexicographicallyPrecedes(y)
            }
        }
        return fast ?? a.utf16.lexicographicallyPrecedes(b.utf16)
    }

    /// A JSON string: runs of bytes that need no escape are copied whole (most strings are
    /// one run); `"`, `\\` and control characters are escaped as RFC 8785 requires.
    static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(0x22)
        var s = s
        s.withUTF8 { u in
            var run = 0
            for i in 0..<u.count {
                let b = u[i]
                guard b < 0x20 || b == 0x22 || b == 0x5C else { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: u[run..<i]))
                writeEscape(b, into: &out)
                run = i + 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: u[run...]))
        }
        out.append(0x22)
    }

    static func writeEscape(_ b: UInt8, into out: inout [UInt8]) {
        switch b {
        case 0x22: out.append(0x5C); out.append(0x22)
        case 0x5C: out.append(0x5C); out.append(0x5C)
        case 0x08: out.append(0x5C); out.append(UInt8(ascii: "b"))
        case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
        case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
        case 0x0C: out.append(0x5C); out.append(UInt8(ascii: "f"))
        case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
        default:
            let hex: StaticString = "0123456789abcdef"
            let h = hex.utf8Start
            out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, h[Int(b >> 4)], h[Int(b & 0xF)]])
        }
    }

    /// ECMAScript `Number.prototype.toString` for finite doubles (ECMA-262 §6.1.6.1.20).
    static func writeNumber(_ d: Double, into out: inout [UInt8]) {
        out.append(contentsOf: formatNumber(d).utf8)
    }

    public static func formatNumber(_ value: Double) -> String {
        precondition(value.isFinite, "JSON numbers are finite")
        if value == 0 { return "0" }
        if value < 0 { return "-" + formatNumber(-value) }
        if value < 9_007_199_254_740_992, value.rounded(.towardZero) == value {
            return String(Int64(value))
        }
        // Swift's description is the shortest string that round-trips; take its digits.
        let text = value.description
        var mantissa = Substring(text)
        var exp = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exp = Int(text[text.index(after: e)...])!
        }
        var intPart = mantissa
        var frac: Substring = ""
        if let dot = mantissa.firstIndex(of: ".") {
            intPart = mantissa[..<dot]
            frac = mantissa[mantissa.index(after: dot)...]
        }
        var digits = Array((intPart + frac).utf8)
        var e2 = exp - frac.count
        while digits.count > 1, digits.first == 0x30 { digits.removeFirst() }
        while digits.count > 1, digits.last == 0x30 { digits.removeLast(); e2 += 1 }
        let s = String(decoding: digits, as: UTF8.self)
        let k = digits.count
        let n = e2 + k
        if k <= n && n <= 21 {
            return s + String(repeating: "0", count: n - k)
        }
        if 0 < n && n <= 21 {
            return String(s.prefix(n)) + "." + String(s.dropFirst(n))
        }
        if -6 < n && n <= 0 {
            return "0." + String(repeating: "0", count: -n) + s
        }
        let e = n - 1
        let sign = e < 0 ? "-" : "+"
        let head = k == 1 ? s : String(s.prefix(1)) + "." + String(s.dropFirst(1))
        return head + "e" + sign + String(abs(e))
    }
}
