import Testing
import LogbookCore

/// The strict reader every outside byte passes through: refusals with line, column and a clear message.
@Suite("JSON parser")
struct JSONParserTests {
    struct Bad: CustomTestStringConvertible, Sendable {
        let name: String
        let bytes: [UInt8]
        let line: Int
        let column: Int
        /// Substrings the message must contain.
        let says: [String]
        var testDescription: String { name }

        init(_ name: String, _ text: String, line: Int = 1, column: Int, says: [String]) {
            self.init(name, Array(text.utf8), line: line, column: column, says: says)
        }

        init(_ name: String, _ bytes: [UInt8], line: Int = 1, column: Int, says: [String]) {
            self.name = name
            self.bytes = bytes
            self.line = line
            self.column = column
            self.says = says
        }
    }

    static let nested = String(repeating: "[", count: JSONParser.maxDepth + 1) + String(repeating: "]", count: JSONParser.maxDepth + 1)

    static let bad: [Bad] = [
        Bad("duplicate key", "{\"a\": 1,\n \"a\": 2}", line: 2, column: 2, says: ["duplicate member name \"a\""]),
        Bad("duplicate key after escapes", #"{"a": 1, "\u0061": 2}"#, column: 10, says: ["duplicate member name \"a\""]),
        Bad("trailing comma in object", "{\"a\": 1,}", column: 9, says: ["expected a member name"]),
        Bad("trailing comma in array", "[1, 2,]", column: 7, says: ["unexpected character ']'", "expected a value"]),
        Bad("leading zero", "[01]", column: 3, says: ["leading zero"]),
        Bad("negative leading zero", "[-007]", column: 4, says: ["leading zero"]),
        Bad("bare minus", "[-]", column: 3, says: ["invalid number"]),
        Bad("fraction without digits", "[1.]", column: 4, says: ["after '.'"]),
        Bad("exponent without digits", "[1e+]", column: 5, says: ["exponent"]),
        Bad("plus sign", "[+1]", column: 2, says: ["expected a value"]),
        Bad("number out of range", "{\"n\": 1e400}", column: 7, says: ["1e400", "out of range"]),
        Bad("negative number out of range", "[-1.5e309]", column: 2, says: ["-1.5e309", "out of range"]),
        Bad("NaN", "[NaN]", column: 2, says: ["'NaN'", "expected a value"]),
        Bad("lone high surrogate", #"["\ud83d"]"#, column: 9, says: ["lone surrogate", "d83d"]),
        Bad("lone low surrogate", #"["x\ude02"]"#, column: 10, says: ["lone surrogate", "de02"]),
        Bad("high surrogate with a non-low partner", #"["\ud83d\u0041"]"#, column: 15, says: ["invalid surrogate pair"]),
        Bad("invalid UTF-8 byte", [0x5B, 0x22, 0x61, 0xFF, 0x62, 0x22, 0x5D], column: 4, says: ["invalid UTF-8"]),
        Bad("overlong UTF-8", [0x5B, 0x22, 0xC0, 0xAF, 0x22, 0x5D], column: 3, says: ["invalid UTF-8"]),
        Bad("UTF-8 encoded surrogate", [0x5B, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x5D], column: 3, says: ["invalid UTF-8"]),
        Bad("truncated UTF-8 sequence", [0x5B, 0x22, 0xE2, 0x82, 0x22, 0x5D], column: 3, says: ["invalid UTF-8"]),
        Bad("invalid UTF-8 after an escape", [0x5B, 0x22, 0x5C, 0x6E, 0xFF, 0x22, 0x5D], column: 5, says: ["invalid UTF-8"]),
        Bad("invalid UTF-8 outside a string", [0x5B, 0xFF, 0x5D], column: 2, says: ["byte 0xFF"]),
        Bad("unescaped newline in a string", "{\"a\": \"x\ny\"}", column: 9, says: ["unescaped control character 0xA"]),
        Bad("unescaped tab in a string", "[\"a\tb\"]", column: 4, says: ["unescaped control character 0x9"]),
        Bad("NUL in a string", [0x5B, 0x22, 0x61, 0x00, 0x22, 0x5D], column: 4, says: ["unescaped control character 0x0"]),
        Bad("NUL between values", [0x5B, 0x31, 0x2C, 0x00, 0x5D], column: 4, says: ["byte 0x0"]),
        Bad("invalid escape", #"["\x41"]"#, column: 4, says: ["invalid escape \\x"]),
        Bad("bad hex in \\u", #"["\u12G4"]"#, column: 7, says: ["invalid hex digit"]),
        Bad("unterminated string", "[\"abc", column: 6, says: ["unterminated string"]),
        Bad("unterminated string with escape", "[\"a\\n", column: 6, says: ["unterminated string"]),
        Bad("deeper than maxDepth", nested, column: JSONParser.maxDepth + 1, says: ["nesting deeper than \(JSONParser.maxDepth)"]),
        Bad("legacy placeholder", "{\n  \"file_id\": \"exec_status_7\",\n  \"g\": <current_g>,\n  \"x\": 1\n}",
            line: 3, column: 8, says: ["'<current_g>'", "expected a value"]),
        Bad("legacy placeholder in an array", "[1, <TBD>]", column: 5, says: ["'<TBD>'"]),
        Bad("trailing garbage", "{\"a\": 1} x", column: 10, says: ["unexpected character 'x' after the end of the document"]),
        Bad("two documents", "{} {}", column: 4, says: ["after the end of the document"]),
        Bad("single quotes", "{'a': 1}", column: 2, says: ["expected a member name in quotes"]),
        Bad("unquoted key", "{a: 1}", column: 2, says: ["expected a member name in quotes"]),
        Bad("missing colon", "{\"a\" 1}", column: 6, says: ["expected ':'"]),
        Bad("missing comma", "[1 2]", column: 4, says: ["expected ',' or ']'"]),
        Bad("empty input", "", column: 1, says: ["unexpected end of input"]),
        Bad("only whitespace", " \n ", line: 2, column: 2, says: ["unexpected end of input"]),
        Bad("unclosed object", "{\"a\": 1", column: 8, says: ["end of input inside an object"]),
        Bad("unclosed array", "[1, 2", column: 6, says: ["end of input inside an array"]),
        Bad("comment", "[1] // no", column: 5, says: ["after the end of the document"]),
        Bad("truncated literal", "[tru]", column: 2, says: ["expected a value"]),
        Bad("capitalised literal", "[True]", column: 2, says: ["expected a value"]),
        Bad("BOM", [0xEF, 0xBB, 0xBF, 0x7B, 0x7D], column: 1, says: ["byte 0xEF"]),
        Bad("column counts characters, not bytes", "{\"é€😂\": x}", column: 9, says: ["character 'x'"]),
    ]

    @Test("refuses with line, column and the reason", arguments: bad)
    func refuses(_ c: Bad) {
        do {
            let v = try JSONParser.parse(c.bytes)
            Issue.record("\(c.name): accepted as \(CanonicalJSON.string(v))")
        } catch {
            #expect(error.line == c.line, "\(c.name): \(error)")
            #expect(error.column == c.column, "\(c.name): \(error)")
            for s in c.says { #expect(error.message.contains(s), "\(c.name): \"\(error.message)\" should say \(s)") }
            #expect(error.description.hasPrefix("line \(c.line), column \(c.column): "))
        }
    }

    static let good: [(String, String)] = [
        ("{}", "{}"),
        ("[]", "[]"),
        (" \t\r\n{ \"a\" : [ 1 , 2 ] } \n", #"{"a":[1,2]}"#),
        ("0", "0"),
        ("-0", "0"),
        ("-0.0e+0", "0"),
        ("1E2", "100"),
        ("1e-400", "0"),  // underflows to zero: finite, accepted
        ("1.7976931348623157e308", "1.7976931348623157e+308"),
        ("\"\\u0000\"", "\"\\u0000\""),  // an escaped NUL is a valid string
        ("\"\\ud83d\\ude02\"", "\"😂\""),
        ("\"\\/\\\"\\\\\\b\\f\\n\\r\\t\"", "\"/\\\"\\\\\\b\\f\\n\\r\\t\""),
        ("\"\\u00E9\\u00e9\"", "\"éé\""),
        ("[true,false,null]", "[true,false,null]"),
        ("{\"a\":{\"a\":1}}", #"{"a":{"a":1}}"#),  // the same name at two levels is fine
        ("{\"A\\u030a\":1,\"\\u00c5\":2}", "{\"A\u{30A}\":1,\"\u{C5}\":2}"),  // not canonically merged
    ]

    @Test("accepts strict JSON", arguments: good)
    func accepts(_ text: String, _ canonical: String) throws {
        #expect(CanonicalJSON.string(try JSONParser.parse(text)) == canonical)
    }

    @Test("nesting up to maxDepth is accepted")
    func maxDepthAccepted() throws {
        let n = JSONParser.maxDepth
        let arrays = String(repeating: "[", count: n) + String(repeating: "]", count: n)
        _ = try JSONParser.parse(arrays)
        let objects = String(repeating: "{\"a\":", count: n) + "1" + String(repeating: "}", count: n)
        _ = try JSONParser.parse(objects)
        #expect(throws: JSONParseError.self) { try JSONParser.parse("{\"a\":" + objects + "}") }
    }

    @Test("very deep input fails cleanly rather than exhausting the stack")
    func veryDeep() {
        let deep = String(repeating: "[", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
    }

    @Test("errors are values: same input, same error")
    func errorEquality() {
        func err(_ s: String) -> JSONParseError? {
            do { _ = try JSONParser.parse(s); return nil } catch { return error }
        }
        #expect(err("[01]") == err("[01]"))
        #expect(err("[01]")?.offset == 2)
    }
}
