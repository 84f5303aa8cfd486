import Foundation
import Testing
import LogbookCore

/// The server path: a book that verifies every signature against the persona registry before
/// it writes (StatusBook.Options.verifyKeys), with many concurrent appenders (batches signed on
/// every core).
@Suite("Server path")
struct ServerPathTests {
    static func book(_ w: Fixture.World) async throws -> StatusBook {
        var keys: [String: PublicKey] = [:]
        for p in w.registry.personas.values { if let k = p.publicKey { keys[k.keyID] = k } }
        return try await StatusBook.open(store: w.store, ref: Fixture.ref, plan: w.spec,
                                         options: .init(now: Fixture.fixedNow, currentG: { 101 }, verifyKeys: keys))
    }

    @Test func concurrentAppendersAreVerifiedAndTheJournalVerifies() async throws {
        let w = try await Fixture.world()
        let book = try await Self.book(w)
        _ = try await book.submit(EventRequest(type: .started, task: "T1", persona: "DEV"), signer: Fixture.key("DEV"))
        // Distinct statements: under the fixed clock two lanes could otherwise sign identical
        // bytes, which the book records once (a repeat returns the first event).
        try await withThrowingTaskGroup(of: Void.self) { g in
            for lane in 0..<32 {
                g.addTask {
                    for i in 0..<5 {
                        _ = try await book.submit(EventRequest(type: .progress, task: "T1", persona: "DEV",
                                                               data: ["percent": JSONValue((lane + i) % 101), "note": .string("lane \(lane), event \(i)")]),
                                                  signer: Fixture.key("DEV"))
                    }
                }
            }
            try await g.waitForAll()
        }
        #expect(try await w.lines().count == 2 + 32 * 5)
        let report = try await w.verify()
        #expect(report.ok, "\(report.failure?.description ?? "")")
    }

    @Test func aKeyThatIsNotTheRegistrysIsRefusedAndNothingIsWritten() async throws {
        let w = try await Fixture.world()
        let book = try await Self.book(w)
        let before = try await w.lines()
        let error = await logbookError {
            _ = try await book.submit(EventRequest(type: .started, task: "T1", persona: "DEV"), signer: SigningKey(generatingFor: "DEV"))
        }
        #expect(error?.code == .badSignature)
        #expect(try await w.lines() == before)
        // The right key still works afterwards.
        _ = try await book.submit(EventRequest(type: .started, task: "T1", persona: "DEV"), signer: Fixture.key("DEV"))
        #expect(try await w.lines().count == before.count + 1)
    }
}
