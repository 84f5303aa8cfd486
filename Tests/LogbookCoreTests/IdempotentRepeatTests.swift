import Foundation
import Testing
import LogbookCore

/// An idempotent repeat returns the first event, read from the nearest position the book knows
/// (its recent commits, the snapshot it opened from), for events before and after the snapshot,
/// from the writing book and from a book opened later.
@Suite("Idempotent repeats")
struct IdempotentRepeatTests {
    static func request(_ i: Int) -> EventRequest {
        EventRequest(type: .progress, task: "T1", persona: "DEV", data: ["percent": JSONValue(i)], idempotencyKey: "k\(i)")
    }

    @Test func everyRepeatReturnsItsFirstEventFromEveryBook() async throws {
        let w = try await Fixture.world(snapshotInterval: 8)
        try await w.submit(.started, "T1", by: "DEV")
        var firsts: [Event] = []
        for i in 0..<40 { firsts.append(try await w.book.submit(Self.request(i), signer: Fixture.key("DEV"))) }
        // A snapshot was written at seq 40: a new book opens from it and replays the tail.
        #expect(try await w.store.loadSnapshot(Fixture.ref) != nil)
        let later = try await StatusBook.open(store: w.store, ref: Fixture.ref, plan: w.spec,
                                              options: .init(snapshotInterval: 8, now: Fixture.fixedNow, currentG: { 101 }))
        for book in [w.book, later] {
            for i in [0, 1, 7, 8, 20, 38, 39] {
                let again = try await book.submit(Self.request(i), signer: Fixture.key("DEV"))
                #expect(again == firsts[i], "repeat of k\(i)")
            }
        }
        for seq in [0, 1, 2, 17, 41] { #expect(try await later.event(at: seq).seq == seq) }
        await #expect(throws: LogbookError.self) { _ = try await later.event(at: 42) }
        #expect(try await w.lines().count == 42)  // genesis, started, 40 progress: no repeat was written
    }
}
