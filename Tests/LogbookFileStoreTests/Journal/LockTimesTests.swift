import LogbookCore
import LogbookEngine
import LogbookFileStore
import Testing

/// The store counts every append's exclusive-lock sections (what `logbook-bench` row 2 prints).
@Suite struct LockTimesTests {
    @Test func everyAppendCountsItsLockSections() async throws {
        let (ws, file) = try await TestSupport.lockedWorkspace("lock-times")
        let before = ws.store.exclusiveLockTimes
        let book = try await ws.engine.book(file)
        let key = try await ws.engine.signingKey(for: "WORKER")
        _ = try await book.submit(EventRequest(type: .started, task: "T1", persona: "WORKER"), signer: key)
        for p in [10, 20] {
            _ = try await book.submit(EventRequest(type: .progress, task: "T1", persona: "WORKER", data: ["percent": .number(Double(p))]), signer: key)
        }
        let after = ws.store.exclusiveLockTimes
        #expect(after.appends - before.appends == 3)
        #expect(after.heldSeconds > before.heldSeconds && after.raiseHeldSeconds > before.raiseHeldSeconds)
        #expect(after.waitedSeconds >= before.waitedSeconds && after.raiseWaitedSeconds >= before.raiseWaitedSeconds)
    }
}
