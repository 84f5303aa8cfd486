import Hummingbird
import HTTPTypes
import LogbookCore
import NIOCore

/// The one place where the server turns errors into HTTP responses: the status for each
/// ``LogbookError/Code`` and the body every front end shares, `{"error": {...}}`
/// (``LogbookError/json``: the same object `--json` prints in the CLI and MCP carries).
///
/// | code | status |
/// |---|---|
/// | bad_input, usage, invalid_plan | 400 |
/// | unauthorized (no or a wrong read token) | 401 |
/// | forbidden, bad_signature, bad_key | 403 |
/// | not_found | 404 |
/// | refused, conflict, locked, not_locked, already_exists | 409 |
/// | too_large | 413 |
/// | unsupported_media_type | 415 |
/// | corrupt, internal | 500 |
/// | io, indeterminate | 503 (retry; with the same idempotency key for indeterminate) |
public struct APIError: HTTPResponseError {
    public var error: LogbookError

    public init(_ error: LogbookError) { self.error = error }

    /// The error any thrown value stands for: a ``LogbookError`` as it is, Hummingbird's own
    /// errors (no route, a body over the limit) as the matching code.
    public init(any error: any Error) {
        if let e = error as? APIError { self = e; return }
        if let e = error as? LogbookError { self.init(e); return }
        if error is NIOTooManyBytesError {
            self.init(LogbookError(.tooLarge, "the body is larger than \(LogbookServer.maxBodyBytes) bytes", rule: "size",
                                   facts: ["limit": JSONValue(LogbookServer.maxBodyBytes)]))
            return
        }
        if let e = error as? HTTPError {
            switch e.status {
            case .notFound: self.init(LogbookError(.notFound, e.body ?? "no such endpoint"))
            case .contentTooLarge:
                self.init(LogbookError(.tooLarge, "the body is larger than \(LogbookServer.maxBodyBytes) bytes", rule: "size",
                                       facts: ["limit": JSONValue(LogbookServer.maxBodyBytes)]))
            case .methodNotAllowed: self.init(LogbookError(.badInput, e.body ?? "method not allowed here", rule: "method"))
            default:
                self.init(LogbookError(e.status.code < 500 ? .badInput : .init(rawValue: "internal"), e.body ?? e.status.reasonPhrase))
            }
            return
        }
        self.init(LogbookError(.init(rawValue: "internal"), "\(error)"))
    }

    public var status: HTTPResponse.Status { Self.status(for: error.code) }

    public static func status(for code: LogbookError.Code) -> HTTPResponse.Status {
        switch code {
        case .badInput, .usage, .invalidPlan: .badRequest
        case .unauthorized: .unauthorized
        case .forbidden, .badSignature, .badKey: .forbidden
        case .notFound: .notFound
        case .refused, .conflict, .locked, .notLocked, .alreadyExists: .conflict
        case .tooLarge: .contentTooLarge
        case .unsupportedMediaType: .unsupportedMediaType
        case .io, .indeterminate: .serviceUnavailable
        default: .internalServerError
        }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if error.code == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        var body = CanonicalJSON.bytes(error.json)
        body.append(0x0A)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// Every error a route throws leaves as an ``APIError`` response, so no client ever gets
/// Hummingbird's plain-text errors or a dropped connection for a bad request.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = ServerContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let e = APIError(any: error)
            if e.status.code >= 500 { context.logger.error("\(request.method) \(request.uri.path): \(e.error.description)") }
            return try e.response(from: request, context: context)
        }
    }
}
