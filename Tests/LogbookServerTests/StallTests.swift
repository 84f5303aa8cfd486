import LogbookCore
import NIOCore
import NIOEmbedded
import Testing
@testable import LogbookServer

/// The event feed's watchdog: a stream whose write has not finished within the stall limit has
/// its connection closed (the client resumes from its last id); one that writes is left alone.
@Suite struct StallTests {
    @Test func aStreamStuckInAWriteIsClosedAndOneThatWritesIsNot() async throws {
        let feed = EventFeed(ref: JournalRef(planID: "EP", g: 1), head: nil, stallLimit: .milliseconds(200))
        let stuck = EmbeddedChannel(), moving = EmbeddedChannel()
        try await stuck.connect(to: .init(ipAddress: "127.0.0.1", port: 1)).get()
        try await moving.connect(to: .init(ipAddress: "127.0.0.1", port: 2)).get()
        let a = feed.subscribe(channel: stuck), b = feed.subscribe(channel: moving)
        // Explicit instants: the test does not depend on how fast the machine is.
        let t0 = ContinuousClock.now
        feed.writing(a.id, true, at: t0)
        feed.writing(b.id, true, at: t0)
        feed.tick(now: t0 + .milliseconds(100))
        #expect(stuck.isActive && moving.isActive, "within the limit: both open")
        feed.writing(b.id, false)  // its write finished
        feed.tick(now: t0 + .milliseconds(300))
        #expect(!stuck.isActive, "the stuck stream's connection is closed")
        #expect(moving.isActive, "the stream whose writes finish stays open")
        feed.unsubscribe(a.id)
        feed.unsubscribe(b.id)
        _ = try? moving.finish()
    }

    @Test func closingTheFeedEndsEveryStreamsWakeUps() async throws {
        let feed = EventFeed(ref: JournalRef(planID: "EP", g: 1), head: nil)
        let s = feed.subscribe(channel: nil)
        feed.close()
        var it = s.wakes.makeAsyncIterator()
        while await it.next() != nil {}
        guard case .closed(nil) = feed.window(from: 0, max: 10) else {
            Issue.record("a closed feed says so")
            return
        }
    }
}
