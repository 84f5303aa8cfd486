import LogbookCore
import Testing

/// Fuzz: snapshot files (StatusState(snapshot:), the cursor).
@Suite struct SnapshotFuzzTests {
    @Test func snapshotsNeverCrashTheReader() async throws {
        let (w, _, snapshot) = try await FuzzSeeds.world()
        let empty = PrettyJSON.bytes(StatusState(plan: w.spec).snapshot(cursor: 0))
        var f = Fuzzer("snapshot", seeds: [snapshot, empty])
        let r = f.run { input in
            let json = try JSONParser.parse(input)
            _ = StatusState.snapshotCursor(json)
            let s = try StatusState(snapshot: json, plan: w.spec)
            _ = s.snapshot(cursor: 0)
            return .accepted
        }
        #expect(r.accepted > Fuzzer.inputs / 200 && r.rejected > Fuzzer.inputs / 10)
    }
}
