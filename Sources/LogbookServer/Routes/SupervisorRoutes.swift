import Foundation
import Hummingbird
import LogbookCore
import LogbookEngine
import Synchronization

/// A supervisor's questions, as `logbook task list`, `stale`, `blocked` and `next` answer them
/// (the engine's ``SupervisorView`` at the server's clock, which is the clock the journal's
/// times come from), and the Validation Report of a frozen plan:
///
/// - `GET /v1/plans/{plan}/tasks`: every task with its claim, liveness, lease and stale flag;
/// - `GET /v1/plans/{plan}/stale?older_than=SECONDS` (default 600);
/// - `GET /v1/plans/{plan}/blocked`;
/// - `GET /v1/plans/{plan}/next?persona=P`;
/// - `GET /v1/plans/{plan}/report`: the report rebuilt from the verified journal (what the
///   stored report file must be, byte for byte), kept per head.
struct SupervisorRoutes {
    let engine: LogbookEngine
    let reports = ReportCache()

    func add(to router: Router<ServerContext>) {
        router.get("/v1/plans/:plan/tasks") { _, context in
            Response.json(try await view(context).document)
        }
        router.get("/v1/plans/:plan/stale") { request, context in
            let v = try await view(context)
            let s = try RequestInput.integer(request, "older_than", default: 600, plan: v.state.plan.id)
            return Response.json(v.staleDocument(olderThan: Double(s)))
        }
        router.get("/v1/plans/:plan/blocked") { _, context in
            Response.json(try await view(context).blockedDocument)
        }
        router.get("/v1/plans/:plan/next") { request, context in
            let v = try await view(context)
            guard let persona = request.uri.queryParameters.get("persona").map({ String($0) }), Identifier.isValid(persona) else {
                throw LogbookError(.badInput, "next needs ?persona=P (a persona id)", plan: v.state.plan.id, rule: "query")
            }
            guard v.state.personas[persona] != nil else {
                throw LogbookError(.notFound, "persona \(persona) is not a persona of plan \(v.state.plan.id)", plan: v.state.plan.id, rule: "persona")
            }
            return Response.json(v.nextDocument(persona: persona))
        }
        router.get("/v1/plans/:plan/report") { _, context in
            let file = try await RequestInput.plan(context, engine)
            let state = try await engine.book(file).state()
            guard state.lifecycle == .frozen || state.lifecycle == .archived else {
                throw LogbookError(.notFound, "plan \(file.id) is \(state.lifecycle.rawValue): its Validation Report exists once it is frozen",
                                   plan: file.id, rule: "report")
            }
            let key = "\(file.journalRef.statusID) \(state.head?.description ?? "")"
            if let bytes = reports.get(key) { return Response.json(bytes) }
            let bytes = PrettyJSON.bytes(try await engine.buildReport(file))
            reports.set(key, bytes)
            return Response.json(bytes)
        }
    }

    func view(_ context: ServerContext) async throws -> SupervisorView {
        let book = try await RequestInput.book(context, engine)
        return SupervisorView(state: try await book.state(), now: engine.options.now())
    }
}

/// Reports already rebuilt, by plan status and head (a frozen plan's head does not move).
final class ReportCache: Sendable {
    private let entries = Mutex<[String: [UInt8]]>([:])
    func get(_ key: String) -> [UInt8]? { entries.withLock { $0[key] } }
    func set(_ key: String, _ bytes: [UInt8]) { entries.withLock { $0[key] = bytes } }
}
