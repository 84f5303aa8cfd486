/// A path into a JSON document, written the way Logbook's errors write it:
/// `payload.tasks[3].dependencies[0]`. A member name that is not a plain identifier is quoted as a
/// JSON string: `payload["odd key"]`, `["first"].x`. The root is the empty path, written `$`.
///
/// ```swift
/// let p = JSONPath("payload.tasks[0].status")!
/// plan.value(at: p)          // the task's status
/// p.description              // "payload.tasks[0].status"
/// ```
public struct JSONPath: Sendable, Hashable, CustomStringConvertible {
    public enum Component: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    public var components: [Component]

    public init(_ components: [Component] = []) { self.components = components }

    public static let root = JSONPath()

    public func appending(_ key: String) -> JSONPath { JSONPath(components + [.key(key)]) }
    public func appending(_ index: Int) -> JSONPath { JSONPath(components + [.index(index)]) }
    public func appending(_ other: JSONPath) -> JSONPath { JSONPath(components + other.components) }

    /// Whether `self` is `other` or one of its ancestors.
    public func isPrefix(of other: JSONPath) -> Bool {
        other.components.count >= components.count && Array(other.components.prefix(components.count)) == components
    }

    /// `self` and every ancestor, longest first (the root last).
    public var selfAndAncestors: [JSONPath] {
        (0...components.count).reversed().map { JSONPath(Array(components.prefix($0))) }
    }

    public var description: String {
        if components.isEmpty { return "$" }
        var out = ""
        for c in components {
            switch c {
            case .index(let i): out += "[\(i)]"
            case .key(let k):
                if JSONPath.isPlain(k) {
                    out += out.isEmpty ? k : "." + k
                } else {
                    out += "[" + CanonicalJSON.string(.string(k)) + "]"
                }
            }
        }
        return out
    }

    static func isPlain(_ k: String) -> Bool {
        guard let f = k.utf8.first, f == UInt8(ascii: "_") || (f | 0x20) >= UInt8(ascii: "a") && (f | 0x20) <= UInt8(ascii: "z") else { return false }
        return k.utf8.allSatisfy { b in
            b == UInt8(ascii: "_") || (b >= 0x30 && b <= 0x39) || ((b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z"))
        }
    }

    /// Parses the written form back; nil if it is not one.
    public init?(_ text: String) {
        if text == "$" { self.init(); return }
        let b = Array(text.utf8)
        var i = 0
        var comps: [Component] = []
        func ident() -> String? {
            let start = i
            while i < b.count, b[i] != UInt8(ascii: "."), b[i] != UInt8(ascii: "[") { i += 1 }
            let s = String(decoding: b[start..<i], as: UTF8.self)
            return JSONPath.isPlain(s) ? s : nil
        }
        while i < b.count {
            if b[i] == UInt8(ascii: "[") {
                i += 1
                guard i < b.count else { return nil }
                if b[i] == UInt8(ascii: "\"") {
                    // A JSON string, then `]`.
                    let start = i
                    i += 1
                    while i < b.count, b[i] != UInt8(ascii: "\"") { i += b[i] == UInt8(ascii: "\\") ? 2 : 1 }
                    guard i < b.count else { return nil }
                    i += 1
                    guard let v = try? JSONParser.parse(Array(b[start..<i])), let k = v.stringValue,
                          i < b.count, b[i] == UInt8(ascii: "]") else { return nil }
                    i += 1
                    comps.append(.key(k))
                } else {
                    let start = i
                    while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }
                    guard i > start, i - start <= 9, i < b.count, b[i] == UInt8(ascii: "]"),
                          let n = Int(String(decoding: b[start..<i], as: UTF8.self)) else { return nil }
                    i += 1
                    comps.append(.index(n))
                }
            } else {
                if !comps.isEmpty {
                    guard b[i] == UInt8(ascii: ".") else { return nil }
                    i += 1
                }
                guard let k = ident() else { return nil }
                comps.append(.key(k))
            }
        }
        guard !comps.isEmpty else { return nil }
        self.init(comps)
    }
}

extension JSONValue {
    /// The value at `path`, or nil if the document has none there.
    public func value(at path: JSONPath) -> JSONValue? {
        var v = self
        for c in path.components {
            switch c {
            case .key(let k):
                guard let next = v[k] else { return nil }
                v = next
            case .index(let i):
                guard let a = v.arrayValue, i >= 0, i < a.count else { return nil }
                v = a[i]
            }
        }
        return v
    }

    /// Every leaf with its path, in document order. Leaves are scalars, empty arrays and empty objects.
    public func leaves(under base: JSONPath = .root) -> [(path: JSONPath, value: JSONValue)] {
        var out: [(path: JSONPath, value: JSONValue)] = []
        func walk(_ v: JSONValue, _ p: JSONPath) {
            switch v {
            case .object(let o) where !o.isEmpty:
                for (k, x) in o { walk(x, p.appending(k)) }
            case .array(let a) where !a.isEmpty:
                for (i, x) in a.enumerated() { walk(x, p.appending(i)) }
            default:
                out.append((p, v))
            }
        }
        walk(self, base)
        return out
    }
}
