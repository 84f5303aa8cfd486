import LogbookCore
import Testing

/// Fuzz: personas.json (the trust roots).
@Suite struct PersonaFuzzTests {
    @Test func personasFilesNeverCrashAndNoBadIdIsAccepted() throws {
        let seeds = [FuzzSeeds.file("golden/personas.json"), PrettyJSON.bytes(Fixture.registry.json()),
                     PrettyJSON.bytes(PersonaRegistry(personas: [], allowUnsigned: true).json())]
        var f = Fuzzer("personas", seeds: seeds)
        let r = f.run { input in
            let json = try JSONParser.parse(input)
            let reg = try PersonaRegistry(json: json)
            // Persona ids name key files (keys/<id>.key): nothing with a path separator gets in.
            Fuzzer.check("personas", reg.personas.values.allSatisfy { Identifier.isValid($0.id) && Identifier.isValid($0.archetype) }, input, "an invalid persona id was accepted")
            _ = reg.json()
            return .accepted
        }
        #expect(r.accepted > Fuzzer.inputs / 200 && r.rejected > Fuzzer.inputs / 10)
    }
}
