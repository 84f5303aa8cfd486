import LogbookCore
import Testing

/// Fuzz: journal lines (Event(line:)), then the verifier's view of them.
@Suite struct EventLineFuzzTests {
    @Test func journalLinesNeverCrashTheEventParser() async throws {
        let (w, journal, _) = try await FuzzSeeds.world()
        let seeds = journal + FuzzSeeds.lines(FuzzSeeds.file("golden/journal.jsonl")) + [FuzzSeeds.file("golden/event.line.jsonl")].map { Array($0.dropLast()) }
        var f = Fuzzer("event-line", seeds: seeds)
        // The state after the genesis, to replay accepted events against (rules must refuse, not trap).
        var genesisState = StatusState(plan: w.spec)
        try genesisState.apply(try Event(line: journal[0]))
        let state = genesisState
        let r = f.run { input in
            let e = try Event(line: input)
            // An accepted event has a canonical line that parses back to the same event.
            let again = try? Event(line: Array(e.line.dropLast()))
            Fuzzer.check("event-line", again == e, input, "event does not round-trip through its line")
            _ = e.computedHash
            var s = state
            _ = try? s.apply(e)
            return .accepted
        }
        #expect(r.accepted > Fuzzer.inputs / 200 && r.rejected > Fuzzer.inputs / 10)
    }
}
