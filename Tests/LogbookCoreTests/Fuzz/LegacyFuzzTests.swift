import LogbookCore
import Testing

/// Fuzz: the migration's legacy parser (legacy plans and state.txt retry counters).
@Suite struct LegacyFuzzTests {
    @Test func legacyPlansNeverCrashTheMigration() throws {
        let seeds = FuzzSeeds.legacy
        #expect(seeds.count >= 8)
        var f = Fuzzer("legacy", seeds: seeds)
        f.maxLength = 3000
        let options = LegacyMigration.Options(sourceName: "legacy.json", defaultPersona: "DEV")
        let r = f.run { input in
            if input.count % 5 == 0 { _ = try? LegacyRetryCounters(bytes: input, name: "state.txt") }
            let result = try LegacyMigration.migrate(bytes: input, options: options)
            _ = result
            return .accepted
        }
        #expect(r.accepted > Fuzzer.inputs / 400 && r.rejected > Fuzzer.inputs / 10)
    }
}
