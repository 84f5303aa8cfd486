import Hummingbird
import LogbookCore
import LogbookEngine

/// `GET /healthz`, `GET /v1/plans`, `GET /v1/plans/{plan}`, `GET /v1/plans/{plan}/status`,
/// `GET /v1/plans/{plan}/verify`.
struct PlanRoutes {
    let engine: LogbookEngine
    let verifies: VerifyFlights

    func add(to router: Router<ServerContext>) {
        router.get("/healthz") { _, _ in
            // The workspace is open and its state readable.
            _ = try await engine.catalog.loadState()
            return Response.json(.object(JSONObject([("ok", .bool(true))])))
        }
        router.get("/v1/plans") { _, _ in
            Response.json(.array(try await engine.planSummaries().map(\.json)))
        }
        // The plan document (exec_plan_<g>.txt), checked against its journal's genesis first.
        router.get("/v1/plans/:plan") { _, context in
            let file = try await RequestInput.plan(context, engine)
            try await engine.provenPlan(file)
            return Response.json(PrettyJSON.bytes(file.document.json))
        }
        // Exactly what `logbook status --json` prints: the snapshot document of the exact state.
        router.get("/v1/plans/:plan/status") { _, context in
            let (bytes, _) = try await RequestInput.book(context, engine).snapshotBytes()
            return Response.json(bytes)
        }
        // `logbook verify --json`'s report; 200 either way (the report says ok or not).
        router.get("/v1/plans/:plan/verify") { _, context in
            let file = try await RequestInput.plan(context, engine)
            let report = try await verifies.run(file.journalRef.statusID) { try await engine.verify(file) }
            ServerMetrics.verified(ok: report.ok)
            return Response.json(PrettyJSON.bytes(report.json))
        }
    }
}
