import Hummingbird
import HTTPTypes
import LogbookCore

/// With a read token (`logbook serve --read-token-file F`, required off loopback), every read
/// needs `Authorization: Bearer <token>`; `/healthz` stays open for probes. Writes are
/// authorised by their persona signature, whatever the address, and need no token.
struct ReadTokenMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let token: [UInt8]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.method == .get, request.uri.path != "/healthz" {
            guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
                throw LogbookError(.unauthorized, "this server requires a read token: send Authorization: Bearer <token>")
            }
            guard Self.same(Array(header.utf8.dropFirst(7)), token) else {
                throw LogbookError(.unauthorized, "the read token is not this server's")
            }
        }
        return try await next(request, context)
    }

    /// Compares in time that depends on the lengths only, not on where the bytes differ.
    static func same(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}
