import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore

/// Scenario 1: one writer in-process, one durable event per commit, against the minimal
/// append + fdatasync loop on the same disk. Two alternating rounds each, to share the noise.
enum SingleWriter {
    static func run(_ c: Config) async throws -> Row {
        let (ws, file) = try await Fixture.workspace(c.dir + "/s1", tasks: 20)
        try await Fixture.startAll(ws, file)
        let book = try await ws.engine.book(file)
        let key = try await ws.engine.signingKey(for: Fixture.persona)
        let note = Fixture.note()
        let half = max(1, c.singleWriterEvents / 2)
        var lbNS: UInt64 = 0, rawNS: UInt64 = 0
        var i = 0
        for round in 0..<2 {
            let (r0, r1) = try RawLoop.append(path: c.dir + "/s1-raw-\(round).log", count: half, bytes: Fixture.recordBytes, lock: false)
            rawNS += r1 - r0
            let t0 = nowNS()
            for _ in 0..<half {
                _ = try await book.submit(Fixture.progress("L\(i % 20 + 1)", i, note: note), signer: key)
                i += 1
            }
            lbNS += nowNS() - t0
        }
        let lb = Double(2 * half) / seconds(lbNS), raw = Double(2 * half) / seconds(rawNS)
        return Row(id: "1", scenario: "1 writer, durable, 1 event/commit, in-process", logbook: fmtRate(lb),
                   baseline: fmtRate(raw) + " raw append+fdatasync", ratio: lb / raw, target: "≥ 0.7 × raw", met: lb / raw >= 0.7)
    }
}
