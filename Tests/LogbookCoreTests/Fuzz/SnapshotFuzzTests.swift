import LogbookCore
import Testing

/// Fuzz: snapshot files (StatusState(snapshot:), the cursor).
@Suite struct SnapshotFuzzTests {
    @Test func snapshotsNeverCrashTheReader() async throws {
        let (w, _, snapshot) = try await FuzzSeeds.world()
        let empty = PrettyJSON.bytes(StatusState(plan: w.spec).snapshot())
        // The compact forms keep inputs small (the reader does not care about layout; the pretty
        // file as written is checked by SnapshotTests and the snapshot crash tests).
        let compact = { (b: [UInt8]) in CanonicalJSON.bytes(try JSONParser.parse(b)) }
        var f = Fuzzer("snapshot", seeds: [try compact(snapshot), try compact(empty)])
        let r = f.run { input in
            let json = try JSONParser.parse(input)
            let s = try StatusState(snapshot: json, plan: w.spec)
            _ = s.snapshot()
            return .accepted
        }
        #expect(r.accepted > Fuzzer.inputs / 200 && r.rejected > Fuzzer.inputs / 10)
    }
}
