import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Synchronization
import Testing

/// Clock skew: writers whose clocks go backwards or run days ahead. Every event is accepted in
/// seq order, the state does not depend on timestamps, a timestamp is never earlier than the one
/// before it (a clock behind the journal records the previous event's time), and verify passes
/// with a warning for the timestamps ahead of its clock.
@Suite struct ClockSkewTests {
    @Test func timestampsBackwardsOrDaysAheadChangeNothingButAWarning() async throws {
        let (ws, file) = try await TestSupport.lockedWorkspace("skew")
        let real = Date()
        let day: TimeInterval = 86_400
        // The clock each successive write sees.
        let clocks: [Date] = [real, real.addingTimeInterval(3 * day), real.addingTimeInterval(-3600), real.addingTimeInterval(-3600),
                              Date(timeIntervalSince1970: 1_000_000_000), real.addingTimeInterval(40 * day), real, real.addingTimeInterval(-2 * day)]
        let at = Mutex(0)
        let options = StatusBook.Options(snapshotInterval: 3, now: { clocks[min(at.withLock { $0 }, clocks.count - 1)] }, currentG: { 1 })
        let book = try await StatusBook.open(store: ws.store, ref: file.journalRef, plan: try file.document.spec(), options: options)
        let key = try await ws.engine.signingKey(for: "WORKER")
        var events: [Event] = []
        for (i, _) in clocks.enumerated() {
            at.withLock { $0 = i }
            let r: EventRequest = i == 0 ? EventRequest(type: .started, task: "T1", persona: "WORKER")
                : i == clocks.count - 1 ? EventRequest(type: .done, task: "T1", persona: "WORKER", data: ["summary": "done in the past"])
                : EventRequest(type: .progress, task: "T1", persona: "WORKER", data: ["percent": JSONValue(i * 10)])
            events.append(try await book.submit(r, signer: key))
        }
        #expect(events.map(\.seq) == Array(1...clocks.count))
        // Each ts is the clock's, or the previous event's when the clock is behind it.
        var expected: [String] = []
        for c in clocks { expected.append(max(Timestamp.string(c), expected.last ?? "")) }
        #expect(events.map(\.ts) == expected)
        let state = try await book.state()
        #expect(state.task("T1")?.status == .done && state.task("T1")?.percent == 100)
        let report = try await ws.engine.verify(file)
        #expect(report.ok, "\(report.failure?.description ?? "")")
        let backwards = report.warnings.filter { $0.contains("earlier than the previous") }
        let ahead = report.warnings.filter { $0.contains("ahead of") }
        // Never backwards; ahead of this machine's clock from seq 2 on (3 days, then 40 days from seq 6).
        #expect(backwards.isEmpty, "\(report.warnings)")
        #expect(ahead.count == clocks.count - 1, "\(report.warnings)")
        #expect(report.warnings.allSatisfy { $0.contains("clock skew") && $0.contains("order is seq") })
        // The same events replayed by a new process give the same state.
        let again = try await Workspace(root: ws.root).engine.book(file).state()
        #expect(again.snapshot() == state.snapshot())
        FaultSweep.report("clock skew", "\(clocks.count) events whose clocks jump 3 and 40 days ahead, 1 hour and 2 days back, and to 2001: all accepted in seq order with timestamps never going backwards, the same state on replay, verify OK with \(ahead.count) ahead-of-clock warnings")
    }
}
