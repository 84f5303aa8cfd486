import LogbookCore
import Testing

/// Fuzz: the strict JSON parser every outside byte goes through.
@Suite struct JSONParserFuzzTests {
    @Test func parserNeverCrashesAndRoundTripsWhatItAccepts() async throws {
        let (_, journal, snapshot) = try await FuzzSeeds.world()
        let seeds = FuzzSeeds.files("jcs/input") + FuzzSeeds.lines(FuzzSeeds.file("golden/journal.jsonl"))
            + [FuzzSeeds.file("golden/plan.json"), FuzzSeeds.file("golden/personas.json"), snapshot] + journal
        var f = Fuzzer("json", seeds: seeds)
        let r = f.run { input in
            let v = try JSONParser.parse(input)
            // What is accepted has one canonical form, which parses back to the same value.
            let canonical = CanonicalJSON.bytes(v)
            let again = try? JSONParser.parse(canonical)
            Fuzzer.check("json", again == v && again.map(CanonicalJSON.bytes) == canonical, input, "canonical form does not round-trip")
            return .accepted
        }
        #expect(r.accepted > Fuzzer.inputs / 200 && r.rejected > Fuzzer.inputs / 10)
    }
}
