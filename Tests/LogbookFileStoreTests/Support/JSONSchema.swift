import Foundation
import LogbookCore

/// A small validator for the JSON Schema (draft 2020-12) subset the HAIOS schemas in
/// Resources/haios/ use: `type` (one or a list, `integer` = a whole number), `enum`, `const`,
/// `required`, `properties`, `additionalProperties` (a schema), `items`, `pattern`, `minimum`,
/// `maximum`. Annotations (`$schema`, `$id`, `$comment`, `title`, `description`) are ignored; any
/// other keyword is an error, so a schema cannot silently ask for more than is checked.
struct JSONSchema {
    let root: JSONValue

    static let annotations: Set<String> = ["$schema", "$id", "$comment", "title", "description"]
    static let keywords: Set<String> = ["type", "enum", "const", "required", "properties", "additionalProperties",
                                        "items", "pattern", "minimum", "maximum"]

    /// Loads `Resources/haios/<name>` of the test bundle.
    static func resource(_ name: String) throws -> JSONSchema {
        let dir = Bundle.module.url(forResource: "Resources", withExtension: nil)!.appendingPathComponent("haios")
        return JSONSchema(root: try JSONParser.parse(Array(try Data(contentsOf: dir.appendingPathComponent(name)))))
    }

    /// Every violation as "path: what", empty when `value` conforms.
    func violations(_ value: JSONValue) -> [String] {
        var out: [String] = []
        check(value, root, "$", &out)
        return out
    }

    static func typeName(_ v: JSONValue) -> String {
        switch v {
        case .null: return "null"
        case .bool: return "boolean"
        case .number(let d): return d == d.rounded() && abs(d) < 9e15 ? "integer" : "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    static func matches(_ v: JSONValue, type: String) -> Bool {
        let t = typeName(v)
        return t == type || (type == "number" && t == "integer")
    }

    private func check(_ v: JSONValue, _ s: JSONValue, _ path: String, _ out: inout [String]) {
        guard let schema = s.objectValue else { out.append("\(path): schema is not an object"); return }
        for (k, _) in schema where !Self.keywords.contains(k) && !Self.annotations.contains(k) {
            out.append("\(path): schema keyword \(k) is not supported by this validator")
        }
        if let t = schema["type"] {
            let types = t.arrayValue?.compactMap(\.stringValue) ?? t.stringValue.map { [$0] } ?? []
            if !types.contains(where: { Self.matches(v, type: $0) }) {
                out.append("\(path): expected \(types.joined(separator: " or ")), found \(Self.typeName(v))")
                return
            }
        }
        if let e = schema["enum"]?.arrayValue, !e.contains(v) {
            out.append("\(path): \(CanonicalJSON.string(v)) is not one of \(e.map { CanonicalJSON.string($0) }.joined(separator: ", "))")
        }
        if let c = schema["const"], c != v { out.append("\(path): expected \(CanonicalJSON.string(c)), found \(CanonicalJSON.string(v))") }
        if let p = schema["pattern"]?.stringValue, let str = v.stringValue,
           str.range(of: p, options: .regularExpression) == nil {
            out.append("\(path): \"\(str)\" does not match \(p)")
        }
        if let d = v.doubleValue {
            if let m = schema["minimum"]?.doubleValue, d < m { out.append("\(path): \(d) < minimum \(m)") }
            if let m = schema["maximum"]?.doubleValue, d > m { out.append("\(path): \(d) > maximum \(m)") }
        }
        if let o = v.objectValue {
            for r in schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where o[r] == nil {
                out.append("\(path): missing required \(r)")
            }
            let props = schema["properties"]?.objectValue ?? JSONObject()
            for (k, x) in o {
                if let ps = props[k] { check(x, ps, "\(path).\(k)", &out) }
                else if let extra = schema["additionalProperties"] { check(x, extra, "\(path).\(k)", &out) }
            }
        }
        if let a = v.arrayValue, let items = schema["items"] {
            for (i, x) in a.enumerated() { check(x, items, "\(path)[\(i)]", &out) }
        }
    }
}
