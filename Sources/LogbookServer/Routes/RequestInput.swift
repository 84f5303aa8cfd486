import Foundation
import Hummingbird
import LogbookCore
import LogbookEngine

/// Reading what a request names: ids in the path and numbers in the query, checked like every
/// other id (a traversal, an encoded one, an over-long or non-ASCII id is 400 and touches nothing).
enum RequestInput {
    /// The path parameter `name` as an id: `^[A-Za-z0-9_.-]{1,128}$`, not `.` or `..`, and the
    /// same after percent-decoding.
    static func id(_ context: ServerContext, _ name: String, what: String) throws -> String {
        let raw = context.parameters.get(name) ?? ""
        let decoded = raw.removingPercentEncoding ?? raw
        guard Identifier.isValid(raw), decoded == raw else {
            let shown = decoded.count > 60 ? String(decoded.prefix(60)) + "…" : decoded
            throw LogbookError(.badInput, "invalid \(what) \"\(SafeText.escape(shown))\" in the path: ids are 1–128 characters of A–Z a–z 0–9 _ . -, not . or ..",
                               rule: "id")
        }
        return raw
    }

    /// The plan the path names (`{plan}`: its id, `exec_plan_<g>` or g).
    static func plan(_ context: ServerContext, _ engine: LogbookEngine) async throws -> PlanFile {
        try await engine.plan(id(context, "plan", what: "plan id"))
    }

    /// The shared book of the locked plan the path names: after the first request, no plan file
    /// read (``LogbookEngine/book(plan:)``). For the routes that write and read the status.
    static func book(_ context: ServerContext, _ engine: LogbookEngine) async throws -> StatusBook {
        try await engine.book(plan: id(context, "plan", what: "plan id"))
    }

    /// The query parameter `name` as a whole number ≥ `min`, or `default` when absent.
    static func integer(_ request: Request, _ name: String, default value: Int, min: Int = 0, plan: String? = nil) throws -> Int {
        guard let s = request.uri.queryParameters.get(name) else { return value }
        guard let n = Int(s), n >= min else {
            throw LogbookError(.badInput, "query parameter \(name) must be a whole number ≥ \(min), got \"\(SafeText.escape(String(s.prefix(40))))\"",
                               plan: plan, rule: "query")
        }
        return n
    }
}

extension Response {
    /// A JSON response of exactly these bytes (a newline is added when missing).
    static func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var body = bytes
        if body.last != 0x0A { body.append(0x0A) }
        var h = headers
        h[.contentType] = "application/json"
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        json(CanonicalJSON.bytes(value), status: status, headers: headers)
    }
}
