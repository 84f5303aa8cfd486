import Crypto
import Dispatch
import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore

/// Scenario 3, the server path: one process, many concurrent appenders, every event's
/// signature verified against the key the plan trusts before it is written; against the
/// CPU-only rate of the same work (build, canonicalise, hash, sign, verify) on all cores.
enum ServerPath {
    /// The rate of the last run (row 9a compares with it).
    nonisolated(unsafe) static var lastRate: Double = 0
    static func run(_ c: Config) async throws -> Row {
        let lanes = c.appenders, total = c.serverEvents
        let (ws, file) = try await Fixture.workspace(c.dir + "/s3", tasks: lanes)
        try await Fixture.startAll(ws, file)
        let book = try await ws.engine(.init(verifySignatures: true)).book(file)
        let key = try await ws.engine.signingKey(for: Fixture.persona)
        let note = Fixture.note()

        let cpu = cpuOnly(events: max(2_000, total / 2), key: key, note: note)
        let t0 = nowNS()
        try await withThrowingTaskGroup(of: Void.self) { g in
            for lane in 0..<lanes {
                g.addTask {
                    var i = lane
                    while i < total {
                        _ = try await book.submit(Fixture.progress("L\(lane + 1)", i, note: note), signer: key)
                        i += lanes
                    }
                }
            }
            try await g.waitForAll()
        }
        let lb = Double(total) / seconds(nowNS() - t0)
        lastRate = lb
        return Row(id: "3", scenario: "1 process, \(lanes) appenders, sigs verified on append", logbook: fmtRate(lb),
                   baseline: fmtRate(cpu) + " CPU-only, \(ProcessInfo.processInfo.activeProcessorCount) cores",
                   ratio: lb / cpu, target: "≥ 0.6 × CPU-only", met: lb / cpu >= 0.6)
    }

    /// Builds, canonicalises, hashes, signs and verifies `events` events in memory, on all cores.
    static func cpuOnly(events: Int, key: SigningKey, note: String) -> Double {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let pk = key.publicKey
        let ts = Timestamp.string(Date())
        let t0 = nowNS()
        DispatchQueue.concurrentPerform(iterations: cores) { p in
            var prev = Digest256.of([UInt8(p)])
            var k = p
            while k < events {
                let e = Event.make(seq: k + 1, prev: prev, ts: ts, g: 2, plan: "EP-BENCH", task: "L1", persona: Fixture.persona,
                                   type: .progress,
                                   data: ["percent": JSONValue(k % 101), "note": .string(note)], signer: key)
                let line = e.line
                precondition(line.count > 0 && pk.isValid(signature: e.sig!, message: e.signedBytes))
                prev = e.hash
                k += cores
            }
        }
        return Double(events) / seconds(nowNS() - t0)
    }
}
