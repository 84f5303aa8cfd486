/// User text (notes, reasons, titles, summaries, persona names) made safe to print on a terminal
/// or in a Markdown file: the one escaping function every human renderer uses.
///
/// Escaped, so that what is printed is exactly what is seen and one event is one line:
/// - newline, carriage return and tab as `\n`, `\r`, `\t`;
/// - every other C0 control (U+0000–U+001F, ESC included), DEL (U+007F) and every C1 control
///   (U+0080–U+009F) as `\u{1B}` (hexadecimal, Swift's spelling);
/// - the Unicode line and paragraph separators U+2028 and U+2029, which some terminals and
///   editors break lines at;
/// - the bidirectional formatting characters (U+061C, U+200E, U+200F, U+202A–U+202E,
///   U+2066–U+2069): they reorder what follows on screen (CVE-2021-42574, "Trojan Source"), so
///   a note could show one thing and say another. Right-to-left text itself is left alone.
///
/// Everything else is printed as is, backslashes included: the escaping is for safety, not
/// reversibility, and it leaves its own output unchanged (escaping twice is escaping once).
/// JSON output (`--json`, the journal, the snapshot, the report's JSON) keeps the exact text.
///
/// ```swift
/// SafeText.escape("done\nseq 99 forged")   // "done\\nseq 99 forged"
/// SafeText.escape("\u{1B}[2J")             // "\\u{1B}[2J"
/// ```
public enum SafeText {
    public static func escape(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: needsEscape) else { return s }
        var out = ""
        out.reserveCapacity(s.utf8.count + 8)
        for u in s.unicodeScalars {
            switch u {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where needsEscape(u): out += "\\u{\(String(u.value, radix: 16, uppercase: true))}"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// Whether `u` is printed escaped.
    public static func needsEscape(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x00...0x1F, 0x7F...0x9F: true
        case 0x2028, 0x2029: true
        case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    /// `s` escaped and then made literal in Markdown: the characters Markdown gives a meaning
    /// (`\` `` ` `` `*` `_` `[` `]` `<` `>` `|` `~` `#`) get a backslash, so a note cannot add
    /// a table cell, a link, emphasis or HTML to the Validation Report.
    public static func markdown(_ s: String) -> String {
        let escaped = escape(s)
        var out = ""
        out.reserveCapacity(escaped.utf8.count + 8)
        for u in escaped.unicodeScalars {
            if markdownSpecial.contains(u) { out += "\\" }
            out.unicodeScalars.append(u)
        }
        return out
    }

    static let markdownSpecial: Set<Unicode.Scalar> = ["\\", "`", "*", "_", "[", "]", "<", ">", "|", "~", "#"]
}
