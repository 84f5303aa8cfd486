import Dispatch
import Hummingbird
import HTTPTypes
import LogbookCore
import LogbookEngine

/// `POST /v1/plans/{plan}/statements`: one signed statement, `{"stmt": {...}, "sig": "<base64>"}`
/// (what `tools/logbook_format.py sign` and `logbook … --server` send). The server holds no
/// private key: it checks the signature with the key the journal records and appends.
///
/// 201 with the appended event (its journal line); 200 with the first event when the statement
/// (or its idempotency key, with the same content) was recorded before; 4xx with the error
/// object, and nothing written.
struct StatementRoutes {
    let engine: LogbookEngine

    func add(to router: Router<ServerContext>) {
        router.post("/v1/plans/:plan/statements") { request, context in
            let started = DispatchTime.now().uptimeNanoseconds
            var request = request
            let book = try await RequestInput.book(context, engine)
            let plan = book.plan.id
            guard let type = request.headers[.contentType], Self.isJSON(type) else {
                throw LogbookError(.unsupportedMediaType, "the body must be application/json, got \(request.headers[.contentType].map { "\"\(SafeText.escape($0))\"" } ?? "no Content-Type")",
                                   plan: plan, rule: "content_type")
            }
            let body = try await request.collectBody(upTo: context.maxUploadSize)
            let signed = try Self.statement(Array(buffer: body), plan: plan)
            do {
                let recorded = try await book.record(signed)
                let e = recorded.event
                if !recorded.repeated { ServerMetrics.appended(plan: plan, type: e.type) }
                ServerMetrics.appendLatency(nanoseconds: Int64(DispatchTime.now().uptimeNanoseconds - started))
                return Response.json(recorded.line, status: recorded.repeated ? .ok : .created,
                                     headers: [.location: "/v1/plans/\(plan)/events?from=\(e.seq)&limit=1"])
            } catch let error as LogbookError {
                ServerMetrics.refused(error)
                throw error
            }
        }
    }

    static func isJSON(_ contentType: String) -> Bool {
        if contentType == "application/json" { return true }  // what every client sends
        let media = contentType.split(separator: ";", maxSplits: 1)[0].trimmingCharacters(in: .whitespaces).lowercased()
        return media == "application/json"
    }

    /// The body as a signed statement: an object with `stmt` (the statement, any key order: it
    /// is signed in its RFC 8785 form) and `sig` (base64 of the 64-byte Ed25519 signature;
    /// absent only for an unsigned persona), nothing else.
    static func statement(_ bytes: [UInt8], plan: String) throws(LogbookError) -> SignedStatement {
        let v: JSONValue
        do { v = try JSONParser.parse(bytes) } catch {
            throw LogbookError(.badInput, "the body is not JSON: \(error.message) (byte \(error.offset))", plan: plan, rule: "json")
        }
        guard let o = v.objectValue else { throw LogbookError(.badInput, "the body must be an object {\"stmt\": {...}, \"sig\": \"...\"}", plan: plan, rule: "json") }
        for k in o.keys where k != "stmt" && k != "sig" {
            throw LogbookError(.badInput, "unknown member \"\(SafeText.escape(k))\" in the body (it holds stmt and sig only)", plan: plan, rule: "json")
        }
        guard let stmt = o["stmt"], stmt.objectValue != nil else {
            throw LogbookError(.badInput, "the body has no stmt object", plan: plan, rule: "statement")
        }
        var sig: [UInt8]?
        if let s = o["sig"] {
            guard let text = s.stringValue, let raw = Base64.decode(text) else {
                throw LogbookError(.badInput, "sig must be the base64 of a 64-byte Ed25519 signature", plan: plan, rule: "signature")
            }
            sig = raw
        }
        return try SignedStatement(json: stmt, sig: sig)
    }
}
