/// Checks for ids that may reach a file name: `^[A-Za-z0-9_.-]{1,128}$`, and not `.` or `..`.
public enum Identifier {
    public static func isValid(_ s: String) -> Bool {
        let u = s.utf8
        guard (1...128).contains(u.count), s != ".", s != ".." else { return false }
        return u.allSatisfy { b in
            (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b)
                || b == UInt8(ascii: "_") || b == UInt8(ascii: ".") || b == UInt8(ascii: "-")
        }
    }

    /// Throws a clear error naming `what` unless `s` is a valid id.
    public static func check(_ s: String, _ what: String) throws(LogbookError) {
        guard isValid(s) else {
            let shown = s.count > 60 ? String(s.prefix(60)) + "…" : s
            throw LogbookError(.badInput, "invalid \(what) \"\(shown.debugDescriptionEscaped)\": ids are 1–128 characters of A–Z a–z 0–9 _ . -")
        }
    }
}

extension String {
    /// The string with control characters escaped, for error messages (``SafeText/escape(_:)``).
    var debugDescriptionEscaped: String { SafeText.escape(self) }
}
