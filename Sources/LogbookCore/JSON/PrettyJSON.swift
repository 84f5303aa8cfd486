/// Deterministic, indented JSON for files people read (snapshots, reports, plans).
///
/// Members come in RFC 8785 order and numbers and strings are written exactly as
/// ``CanonicalJSON`` writes them, so the same value always gives the same bytes.
public enum PrettyJSON {
    public static func bytes(_ value: JSONValue, indent: Int = 2) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(4096)
        write(value, level: 0, indent: indent, into: &out)
        out.append(0x0A)
        return out
    }

    public static func string(_ value: JSONValue) -> String {
        String(decoding: bytes(value), as: UTF8.self)
    }

    private static func newline(_ level: Int, _ indent: Int, _ out: inout [UInt8]) {
        out.append(0x0A)
        out.append(contentsOf: repeatElement(0x20, count: level * indent))
    }

    private static func write(_ value: JSONValue, level: Int, indent: Int, into out: inout [UInt8]) {
        switch value {
        case .array(let items) where !items.isEmpty:
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(level + 1, indent, &out)
                write(item, level: level + 1, indent: indent, into: &out)
            }
            newline(level, indent, &out)
            out.append(UInt8(ascii: "]"))
        case .object(let obj) where !obj.isEmpty:
            out.append(UInt8(ascii: "{"))
            for (i, m) in CanonicalJSON.sortedMembers(obj).enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(level + 1, indent, &out)
                CanonicalJSON.writeString(m.key, into: &out)
                out.append(contentsOf: [UInt8(ascii: ":"), 0x20])
                write(m.value, level: level + 1, indent: indent, into: &out)
            }
            newline(level, indent, &out)
            out.append(UInt8(ascii: "}"))
        default:
            CanonicalJSON.write(value, into: &out)
        }
    }
}
