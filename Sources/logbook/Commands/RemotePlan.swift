import Foundation
import LogbookClient
import LogbookCore

/// A plan as the CLI sees it through a server (`--server URL`): its id, its definition, and its
/// exact state read from the server's status (the snapshot document `status --json` prints).
struct RemotePlan {
    let remote: RemoteLogbook
    let id: String
    let spec: PlanSpec
    let document: PlanDocument

    /// The plan `selector` names (or the server's current one), with its definition.
    static func open(_ remote: RemoteLogbook, _ selector: String?) async throws -> RemotePlan {
        let summary = try await remote.planSummary(selector)
        guard let id = summary["plan_id"]?.stringValue else { throw LogbookError(.unavailable, "the server sent a plan without an id") }
        guard summary["status_id"]?.stringValue != nil else {
            throw LogbookError(.notLocked, "plan \(id) is a DRAFT; lock it first (`logbook plan lock \(id) --persona SUPERVISOR`)", plan: id)
        }
        let doc = try PlanDocument(bytes: try await remote.planDocument(id), name: "the server's plan \(id)")
        return RemotePlan(remote: remote, id: id, spec: try doc.spec(), document: doc)
    }

    /// The exact state now.
    func state() async throws -> StatusState {
        let bytes = try await remote.status(id)
        do { return try StatusState(snapshot: try JSONParser.parse(bytes), plan: spec) } catch let e as LogbookError {
            throw LogbookError(.unavailable, "the server's status of \(id) does not read: \(e.message)", plan: id)
        }
    }

    var titles: [String: String] { Dictionary(uniqueKeysWithValues: spec.tasks.map { ($0.id, $0.title) }) }

    /// Journal events from `from` on, following the server's stream: resumes after a broken
    /// connection (or a server restart) from the last seq received, so nothing is missed or
    /// repeated. `body` returns false to stop.
    func follow(from: Int, _ body: (Int, [UInt8]) async throws -> Bool) async throws {
        var next = from
        var failures = 0
        while true {
            do {
                for try await (seq, line) in try await remote.stream(id, from: next) {
                    guard seq >= next else { continue }
                    failures = 0
                    next = seq + 1
                    if try await !body(seq, line) { return }
                }
            } catch let e as LogbookError where e.code == .unavailable {
                failures += 1
                // A server that restarts comes back; one that stays away for a minute is reported.
                if failures > 30 { throw e }
            }
            try await Task.sleep(for: .seconds(2))
        }
    }
}
