import LogbookCore
import Testing

/// Fuzz: ids (which reach file names) and timestamps.
@Suite struct IdentifierFuzzTests {
    @Test func noIdWithAPathSeparatorOrDotsIsValid() throws {
        var f = Fuzzer("identifier", seeds: ["T1", "EP-001", "SUPERVISOR", "../x", "a/b", "..", ".", "x\u{0}", "é", String(repeating: "a", count: 128)].map { Array($0.utf8) })
        let r = f.run { input in
            let s = String(decoding: input, as: UTF8.self)
            if Identifier.isValid(s) {
                Fuzzer.check("identifier", !s.contains("/") && s != "." && s != ".." && !s.contains("\u{0}") && s.utf8.count <= 128 && !s.contains("\\"), input, "\(s) is a valid id")
                try Identifier.check(s, "id")
                return .accepted
            }
            try Identifier.check(s, "task id")
            return .accepted
        }
        #expect(r.rejected > Fuzzer.inputs / 10)
    }

    @Test func timestampsNeverCrashTheParser() throws {
        var f = Fuzzer("timestamp", seeds: ["2025-06-01T12:00:05.250Z", "1970-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z"].map { Array($0.utf8) })
        f.maxLength = 64
        let r = f.run { input in
            let s = String(decoding: input, as: UTF8.self)
            guard let ms = Timestamp.parse(s) else { throw LogbookError(.badInput, "not a timestamp: \(s)") }
            _ = Timestamp.string(millisecondsSince1970: ms)
            return .accepted
        }
        #expect(r.accepted > Fuzzer.inputs / 1000)
    }
}
