import Hummingbird
import HTTPTypes
import LogbookCore

/// The cockpit: `GET /` (every plan), `GET /plans/{plan}` (one plan, live), and its files under
/// `/cockpit/`. The pages carry no data: their script reads the API (`/v1/…`) and follows the
/// event stream, so they need no read token themselves; the script passes on the one the page
/// was opened with (`?access_token=`).
///
/// Every answer carries a Content-Security-Policy that allows this server's own scripts and
/// styles only (no inline script, no other origin), so an agent's note that slips past the
/// page's escaping still cannot run.
struct CockpitRoutes {
    let assets: CockpitAssets

    static let securityHeaders: HTTPFields = [
        HTTPField.Name("Content-Security-Policy")!: "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("Referrer-Policy")!: "no-referrer",
        .cacheControl: "no-cache",
    ]

    func add(to router: Router<ServerContext>) {
        router.get("/") { _, _ in try serve("index.html") }
        router.get("/plans/:plan") { _, context in
            _ = try RequestInput.id(context, "plan", what: "plan id")
            return try serve("plan.html")
        }
        router.get("/cockpit/:file") { _, context in
            try serve(context.parameters.get("file") ?? "")
        }
    }

    func serve(_ name: String) throws -> Response {
        let a = try assets.asset(name)
        var h = Self.securityHeaders
        h[.contentType] = a.contentType
        return Response(status: .ok, headers: h, body: .init(byteBuffer: ByteBuffer(bytes: a.bytes)))
    }
}
