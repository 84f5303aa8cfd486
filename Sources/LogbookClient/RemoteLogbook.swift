import AsyncHTTPClient
import Foundation
import LogbookCore
import NIOCore
import NIOHTTP1

/// A Logbook server seen from a client (the CLI's `--server URL`, an agent's own code): the
/// endpoints of docs/API.md, with the server's error objects turned back into the same
/// ``LogbookError`` a local call throws, so the CLI prints the same line and exits with the
/// same code either way.
///
/// The client never sends key material: statements are signed by the caller and travel as
/// `{"stmt": …, "sig": …}`.
public struct RemoteLogbook: Sendable {
    /// `http://host:port` (no trailing slash; a path prefix is kept).
    public let base: String
    public let readToken: String?
    let client: HTTPClient
    /// Per request (connect, send, answer); streams have none.
    let timeout: TimeAmount

    /// - Throws: `.badInput` naming the URL when it is not `http://` or `https://` with a host.
    /// The client every ``RemoteLogbook`` uses unless given one: it fails at once when the
    /// server refuses connections (AsyncHTTPClient's shared client retries them until the
    /// request's deadline), so a CLI call on a server that is down says so in milliseconds and
    /// the outbox takes over; callers that wait for a server (`outbox flush --follow`, a stream
    /// resuming) retry themselves.
    public static let client: HTTPClient = {
        var c = HTTPClient.Configuration(timeout: .init(connect: .seconds(5)))
        c.connectionPool.retryConnectionEstablishment = false
        c.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 1024  // long-lived streams must not starve requests
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: c)
    }()

    public init(server: String, readToken: String? = nil, client: HTTPClient = RemoteLogbook.client, timeout: TimeAmount = .seconds(30)) throws(LogbookError) {
        var s = server
        while s.hasSuffix("/") { s.removeLast() }
        guard let url = URL(string: s), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty, url.query == nil, url.fragment == nil else {
            throw LogbookError(.badInput, "--server must be a URL like http://127.0.0.1:8080, got \"\(SafeText.escape(server))\"", rule: "server")
        }
        self.base = s
        self.readToken = readToken
        self.client = client
        self.timeout = timeout
    }

    /// A path segment for an id the caller checked (ids never need escaping; this keeps it so).
    static func segment(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._"))) ?? id
    }

    func request(_ path: String, method: HTTPMethod = .GET, json body: [UInt8]? = nil) -> HTTPClientRequest {
        var r = HTTPClientRequest(url: base + path)
        r.method = method
        r.headers.add(name: "Accept", value: "application/json")
        r.headers.add(name: "User-Agent", value: "logbook/\(LogbookVersion.string)")
        if let readToken { r.headers.add(name: "Authorization", value: "Bearer \(readToken)") }
        if let body {
            r.headers.add(name: "Content-Type", value: "application/json")
            r.body = .bytes(ByteBuffer(bytes: body))
        }
        return r
    }

    /// Sends a request and returns the status and the whole body; a 4xx or 5xx with an error
    /// object throws that error.
    ///
    /// - Throws: ``LogbookError`` from the server's error object; `.unavailable` when the
    ///   server cannot be reached (nothing was sent, or no answer came: for a write the outcome
    ///   is then unknown, and a retry with the same statement is safe: it is recorded once).
    func send(_ r: HTTPClientRequest, limit: Int = 64 << 20) async throws -> (status: Int, body: [UInt8]) {
        let response: HTTPClientResponse
        do { response = try await client.execute(r, timeout: timeout) } catch {
            throw LogbookError(.unavailable, "cannot reach the server at \(base): \(Self.describe(error))",
                               facts: ["server": .string(base)])
        }
        let body: ByteBuffer
        do { body = try await response.body.collect(upTo: limit) } catch {
            throw LogbookError(.unavailable, "the server at \(base) stopped answering: \(Self.describe(error))",
                               facts: ["server": .string(base)])
        }
        let bytes = Array(buffer: body)
        let status = Int(response.status.code)
        if status >= 400 { throw Self.error(from: bytes, status: status, base: base) }
        return (status, bytes)
    }

    static func describe(_ error: any Error) -> String {
        let s = String(describing: error)
        return s.count > 200 ? String(s.prefix(200)) + "…" : s
    }

    /// The ``LogbookError`` an error response carries (the object `LogbookError.json` wrote).
    static func error(from body: [UInt8], status: Int, base: String) -> LogbookError {
        guard let v = try? JSONParser.parse(body), let o = v["error"]?.objectValue,
              let code = o["code"]?.stringValue, let message = o["message"]?.stringValue else {
            let text = String(decoding: body.prefix(200), as: UTF8.self)
            return LogbookError(status >= 500 ? .unavailable : .badInput, "the server at \(base) answered \(status): \(text)")
        }
        var facts = JSONObject()
        for (k, value) in o where !LogbookError.jsonFields.contains(k) { facts[k] = value }
        return LogbookError(LogbookError.Code(rawValue: code), message, plan: o["plan"]?.stringValue, task: o["task"]?.stringValue,
                            seq: o["seq"]?.intValue, rule: o["rule"]?.stringValue, path: o["path"]?.stringValue, facts: facts)
    }

    func getJSON(_ path: String) async throws -> JSONValue {
        let (_, body) = try await send(request(path))
        do { return try JSONParser.parse(body) } catch {
            throw LogbookError(.unavailable, "the server at \(base) answered \(path) with something that is not JSON")
        }
    }

    // MARK: Endpoints

    /// `GET /v1/plans`: one summary per plan (the members of `plan list --json`).
    public func plans() async throws -> [JSONObject] {
        try await getJSON("/v1/plans").arrayValue?.compactMap(\.objectValue) ?? []
    }

    /// The summary of the plan `selector` names (id, `exec_plan_<g>` or g), or of the one the
    /// server's state points at (else the last locked one), as the local CLI chooses.
    public func planSummary(_ selector: String?) async throws -> JSONObject {
        let all = try await plans()
        if let selector {
            if let p = all.first(where: { $0["plan_id"]?.stringValue == selector || "\($0["g"]?.intValue ?? -1)" == selector
                || "exec_plan_\($0["g"]?.intValue ?? -1)" == selector }) { return p }
            throw LogbookError(.notFound, "no plan \(selector) on the server at \(base)", plan: selector)
        }
        if let p = all.first(where: { $0["current"]?.boolValue == true }) { return p }
        if let p = all.last(where: { $0["status_id"]?.stringValue != nil }) { return p }
        throw LogbookError(.notFound, "the server at \(base) points at no live status and no plan is locked; name a plan with --plan ID")
    }

    /// `GET /v1/plans/{plan}`: the plan document, byte for byte.
    public func planDocument(_ plan: String) async throws -> [UInt8] {
        try await send(request("/v1/plans/\(Self.segment(plan))")).body
    }

    /// `GET /v1/plans/{plan}/status`: exactly what `logbook status --json` prints.
    public func status(_ plan: String) async throws -> [UInt8] {
        try await send(request("/v1/plans/\(Self.segment(plan))/status")).body
    }

    /// `GET /v1/plans/{plan}/verify`: the verify report (pretty JSON, as `verify --json`).
    public func verify(_ plan: String) async throws -> [UInt8] {
        try await send(request("/v1/plans/\(Self.segment(plan))/verify")).body
    }

    /// `GET /v1/plans/{plan}/events?from=&limit=`: journal lines, oldest first.
    public func events(_ plan: String, from: Int, limit: Int = 1000) async throws -> [[UInt8]] {
        let v = try await getJSON("/v1/plans/\(Self.segment(plan))/events?from=\(from)&limit=\(limit)")
        return (v.arrayValue ?? []).map { CanonicalJSON.bytes($0) }
    }

    /// `POST /v1/plans/{plan}/statements`: the event that records it, and whether it was
    /// recorded before (200) rather than now (201).
    public func submit(_ plan: String, _ s: SignedStatement) async throws -> (event: Event, repeated: Bool) {
        let (status, body) = try await send(request("/v1/plans/\(Self.segment(plan))/statements", method: .POST, json: Self.body(s)))
        var line = body
        while line.last == 0x0A { line.removeLast() }
        do { return (try Event(line: line), status == 200) } catch {
            throw LogbookError(.unavailable, "the server at \(base) answered the statement with something that is not an event: \(error.message)")
        }
    }

    /// What `POST …/statements` carries: the statement (its signed canonical bytes, verbatim)
    /// and the signature. Nothing else: no key, no key file, no path.
    public static func body(_ s: SignedStatement) -> [UInt8] {
        var out = Array("{\"stmt\":".utf8) + s.bytes
        if let sig = s.sig { out += Array(",\"sig\":\"\(Base64.encode(sig))\"".utf8) }
        out += Array("}".utf8)
        return out
    }
}
