import LogbookCore
import Synchronization
import Testing
@testable import LogbookServer

/// One verify per plan at a time: concurrent requests share the running pass, and a graceful
/// shutdown stops it instead of waiting for it.
@Suite struct VerifyFlightsTests {
    final class Counter: Sendable {
        let n = Mutex(0)
        func bump() { n.withLock { $0 += 1 } }
        var value: Int { n.withLock { $0 } }
    }

    @Test func concurrentRequestsShareOnePassAndTheNextOneRunsAgain() async throws {
        let flights = VerifyFlights(), calls = Counter()
        let body: @Sendable () async throws -> VerifyReport = {
            calls.bump()
            try await Task.sleep(for: .milliseconds(300))
            return VerifyReport(plan: "EP")
        }
        try await withThrowingTaskGroup(of: VerifyReport.self) { g in
            for _ in 0..<5 { g.addTask { try await flights.run("exec_status_1", body) } }
            for try await r in g { #expect(r.plan == "EP") }
        }
        #expect(calls.value == 1, "five concurrent requests, one pass")
        _ = try await flights.run("exec_status_1", body)
        #expect(calls.value == 2, "nothing is kept after a pass ends")
    }

    @Test func shutdownStopsARunningVerify() async throws {
        let flights = VerifyFlights(), began = Counter()
        let waiting = Task {
            try await flights.run("exec_status_1") {
                began.bump()
                try await Task.sleep(for: .seconds(120))  // not cancelled: the test fails below
                return VerifyReport(plan: "EP")
            }
        }
        // Until the pass runs (however long a loaded machine takes to start it).
        while began.value == 0 { try await Task.sleep(for: .milliseconds(10)) }
        flights.cancelAll()
        do {
            _ = try await waiting.value
            Issue.record("the verify was not stopped")
        } catch let e as LogbookError {
            #expect(e.code == .unavailable && e.rule == "shutdown", "\(e.json)")
        }
    }
}
