import Hummingbird
import HTTPTypes
import LogbookCore

/// With a read token (`logbook serve --read-token-file F`, required off loopback), every read
/// of data needs the token: `Authorization: Bearer <token>`, or `?access_token=<token>` (RFC 6750
/// §2.3) where a header cannot be set (a browser's `EventSource`). `/healthz` and the cockpit's
/// pages and files, which carry no data, stay open. Writes are authorised by their persona
/// signature, whatever the address, and need no token.
struct ReadTokenMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let token: [UInt8]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.method == .get, !Self.isOpen(request.uri.path) {
            let given: [UInt8]
            if let header = request.headers[.authorization] {
                guard header.hasPrefix("Bearer ") else {
                    throw LogbookError(.unauthorized, "the Authorization header must be \"Bearer <token>\"")
                }
                given = Array(header.utf8.dropFirst(7))
            } else if let q = request.uri.queryParameters.get("access_token") {
                given = Array(q.utf8)
            } else {
                throw LogbookError(.unauthorized, "this server requires a read token: send Authorization: Bearer <token> (or ?access_token=<token>)")
            }
            guard Self.same(given, token) else {
                throw LogbookError(.unauthorized, "the read token is not this server's")
            }
        }
        return try await next(request, context)
    }

    /// Paths that carry no data: the probe and the cockpit's static pages and files.
    static func isOpen(_ path: String) -> Bool {
        path == "/healthz" || path == "/" || path.hasPrefix("/cockpit/") || (path.hasPrefix("/plans/") && !path.dropFirst(7).contains("/"))
    }

    /// Compares in time that depends on the lengths only, not on where the bytes differ.
    static func same(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}
