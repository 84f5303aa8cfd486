import LogbookCore
import Synchronization

/// The verifies running in this server, one per plan: a request for a plan whose verify is
/// already running waits for that one instead of starting another (a cockpit reloaded three
/// times runs one full pass, not three). Nothing is kept after it ends: the next request
/// verifies again, since files can change without the head moving. On graceful shutdown the
/// running ones are cancelled (the engine's verify checks for it between batches), so a long
/// verify does not hold the server up.
final class VerifyFlights: Sendable {
    private let running = Mutex<[String: Task<VerifyReport, any Error>]>([:])

    func run(_ key: String, _ body: @escaping @Sendable () async throws -> VerifyReport) async throws -> VerifyReport {
        let task = running.withLock { r -> Task<VerifyReport, any Error> in
            if let t = r[key] { return t }
            let t = Task { try await body() }
            r[key] = t
            return t
        }
        defer { running.withLock { r in if r[key] == task { r[key] = nil } } }
        do { return try await task.value } catch is CancellationError {
            throw LogbookError(.unavailable, "the server is shutting down: the verify was stopped; ask again once it is back", rule: "shutdown")
        }
    }

    func cancelAll() {
        for t in running.withLock({ $0.values }) { t.cancel() }
    }
}
