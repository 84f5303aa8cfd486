import Foundation
import Testing
import LogbookCore

/// RFC 8785 (JCS): the bytes Logbook hashes and signs.
@Suite("Canonical JSON (RFC 8785)")
struct CanonicalJSONTests {
    static let resources: URL = Bundle.module.url(forResource: "Resources", withExtension: nil)!

    static func file(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: resources.appendingPathComponent(path)))
    }

    /// The test vectors of cyberphone/json-canonicalization (see Resources/jcs/SOURCE.md).
    static let vectors = ["arrays", "french", "structures", "unicode", "values", "weird"]

    @Test("RFC 8785 vector canonicalizes to output/X.json", arguments: vectors)
    func vector(_ name: String) throws {
        let input = try Self.file("jcs/input/\(name).json")
        let expected = try Self.file("jcs/output/\(name).json")
        let value = try JSONParser.parse(input)
        let canonical = CanonicalJSON.bytes(value)
        #expect(canonical == expected, "\(name): got \(String(decoding: canonical, as: UTF8.self))")
    }

    @Test("RFC 8785 vector matches outhex/X.txt", arguments: vectors)
    func vectorHex(_ name: String) throws {
        let hexText = String(decoding: try Self.file("jcs/outhex/\(name).txt"), as: UTF8.self)
        let expected = hexText.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\r" }).map { UInt8($0, radix: 16)! }
        let canonical = CanonicalJSON.bytes(try JSONParser.parse(try Self.file("jcs/input/\(name).json")))
        #expect(canonical == expected)
    }

    @Test("canonical output is a fixed point", arguments: vectors)
    func idempotent(_ name: String) throws {
        let expected = try Self.file("jcs/output/\(name).json")
        #expect(CanonicalJSON.bytes(try JSONParser.parse(expected)) == expected)
    }

    // MARK: Numbers: ECMAScript Number.prototype.toString (ECMA-262 Number::toString)

    /// Expected strings as printed by `String(x)` in an ECMAScript engine (checked with node).
    static let numberCases: [(String, String)] = [
        ("0", "0"),
        ("-0", "0"),
        ("1", "1"),
        ("-1", "-1"),
        ("56", "56"),
        ("100", "100"),
        ("4.5", "4.5"),
        ("-1.5", "-1.5"),
        ("0.5", "0.5"),
        ("0.1", "0.1"),
        ("0.30000000000000004", "0.30000000000000004"),
        ("4.35", "4.35"),
        ("1234.5678", "1234.5678"),
        ("0.002", "0.002"),
        ("1e-5", "0.00001"),
        ("0.000001", "0.000001"),
        ("-0.000001", "-0.000001"),
        ("0.000001234", "0.000001234"),
        ("1e-7", "1e-7"),
        ("1.5e-7", "1.5e-7"),
        ("5e-7", "5e-7"),
        ("123e-20", "1.23e-18"),
        ("1e-27", "1e-27"),
        ("5e-324", "5e-324"),
        ("-5e-324", "-5e-324"),
        ("2.2250738585072014e-308", "2.2250738585072014e-308"),
        ("1.7976931348623157e308", "1.7976931348623157e+308"),
        ("-1.7976931348623157e308", "-1.7976931348623157e+308"),
        ("333333333.33333329", "333333333.3333333"),
        ("1.0000000000000002", "1.0000000000000002"),
        ("4294967296", "4294967296"),
        ("9007199254740991", "9007199254740991"),
        ("9007199254740992", "9007199254740992"),  // 2^53
        ("9007199254740994", "9007199254740994"),  // 2^53 + 2
        ("-9007199254740992", "-9007199254740992"),
        ("1e16", "10000000000000000"),
        ("1e20", "100000000000000000000"),
        ("123456789012345680000", "123456789012345680000"),
        ("999999999999999900000", "999999999999999900000"),
        ("295147905179352830000", "295147905179352830000"),
        ("1e21", "1e+21"),
        ("-1e21", "-1e+21"),
        ("1.2345678901234568e21", "1.2345678901234568e+21"),
        ("1e23", "1e+23"),
        ("1e30", "1e+30"),
        ("1e300", "1e+300"),
    ]

    @Test("formatNumber matches ECMAScript", arguments: numberCases)
    func formatNumber(_ literal: String, _ expected: String) throws {
        let value = try #require(Double(literal))
        #expect(CanonicalJSON.formatNumber(value) == expected)
        #expect(CanonicalJSON.formatNumber(value) == CanonicalJSON.string(try JSONParser.parse(literal)))
    }

    /// 4 638 doubles (random bit patterns, short decimals at every scale, integers near 2^53,
    /// powers of ten) with node's `String(x)`; see Resources/es6numbers/generate.js.
    @Test("formatNumber matches ECMAScript on a generated sample")
    func formatNumberSample() throws {
        let text = String(decoding: try Self.file("es6numbers/sample.txt"), as: UTF8.self)
        var checked = 0
        var mismatches: [String] = []
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let bits = UInt64(parts[0], radix: 16) else {
                Issue.record("bad sample line \(line)")
                continue
            }
            let value = Double(bitPattern: bits)
            let got = CanonicalJSON.formatNumber(value)
            if got != parts[1] { mismatches.append("\(parts[0]): expected \(parts[1]), got \(got)") }
            // The printed form reads back as the same double.
            if Double(got) != value, !(value == 0 && Double(got) == 0) { mismatches.append("\(parts[0]): \(got) does not round-trip") }
            checked += 1
        }
        #expect(checked == 4638)
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches, first: \(mismatches.prefix(5))")
    }

    @Test("numbers inside documents are written in ECMAScript form")
    func numbersInDocument() throws {
        let v = try JSONParser.parse("[1E30, 4.50, 2e-3, 0.000000000000000000000000001, -0, 1e0, 10.0]")
        #expect(CanonicalJSON.string(v) == "[1e+30,4.5,0.002,1e-27,0,1,10]")
    }

    // MARK: Strings and ordering

    static let stringCases: [(String, String)] = [
        ("", #""""#),
        ("plain", #""plain""#),
        ("quote \" backslash \\ slash /", #""quote \" backslash \\ slash /""#),
        ("\u{8}\u{9}\u{A}\u{C}\u{D}", #""\b\t\n\f\r""#),
        ("\u{0}\u{1}\u{1F}", #""\u0000\u0001\u001f""#),
        ("\u{7F}", "\"\u{7F}\""),  // DEL is not escaped
        ("€ ö 😂 \u{2028}", "\"€ ö 😂 \u{2028}\""),  // no \u escapes for non-ASCII
        ("A\u{30A}", "\"A\u{30A}\""),  // not normalized
    ]

    @Test("strings use the minimal JSON.stringify escapes", arguments: stringCases)
    func strings(_ s: String, _ expected: String) {
        #expect(Array(CanonicalJSON.string(.string(s)).utf8) == Array(expected.utf8))
    }

    @Test("members sort by UTF-16 code units, not scalars or locale")
    func utf16Order() {
        // U+FB33 (one UTF-16 unit, 0xFB33) sorts after U+1F602 (surrogates 0xD83D 0xDE02),
        // although its scalar value is smaller: UTF-16 order, as RFC 8785 §3.2.3 requires.
        let v: JSONValue = ["\u{FB33}": 1, "\u{1F602}": 2, "a": 3, "B": 4, "": 5, "aa": 6]
        #expect(CanonicalJSON.string(v) == "{\"\":5,\"B\":4,\"a\":3,\"aa\":6,\"\u{1F602}\":2,\"\u{FB33}\":1}")
    }

    @Test("canonically equivalent keys stay distinct members")
    func unnormalizedKeys() throws {
        let v = try JSONParser.parse("{\"A\\u030a\": 1, \"\\u00c5\": 2}")
        #expect(v.objectValue?.count == 2)
        #expect(CanonicalJSON.string(v) == "{\"A\u{30A}\":1,\"\u{C5}\":2}")
    }

    @Test("no whitespace; literals; nesting")
    func structure() {
        let v: JSONValue = ["b": [true, false, nil, [], [:]], "a": ["y": 1, "x": "z"]]
        #expect(CanonicalJSON.string(v) == #"{"a":{"x":"z","y":1},"b":[true,false,null,[],{}]}"#)
    }

    @Test("PrettyJSON is deterministic and parses back to the same value")
    func pretty() throws {
        let v = try JSONParser.parse(try Self.file("jcs/input/weird.json"))
        let a = PrettyJSON.bytes(v)
        #expect(a == PrettyJSON.bytes(try JSONParser.parse(a)))
        #expect(CanonicalJSON.bytes(try JSONParser.parse(a)) == CanonicalJSON.bytes(v))
        #expect(PrettyJSON.string(["b": 1, "a": [], "c": [2]]) == "{\n  \"a\": [],\n  \"b\": 1,\n  \"c\": [\n    2\n  ]\n}\n")
    }
}
