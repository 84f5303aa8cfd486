import Hummingbird
import HTTPTypes
import LogbookCore
import LogbookEngine

/// `GET /v1/plans/{plan}/events?from=SEQ&limit=N` and `GET /v1/plans/{plan}/events/stream`.
struct EventRoutes {
    let engine: LogbookEngine
    let feeds: EventFeeds

    static let lastEventID = HTTPField.Name("Last-Event-ID")!

    func add(to router: Router<ServerContext>) {
        // A JSON array of the journal lines, byte for byte, oldest first.
        router.get("/v1/plans/:plan/events") { request, context in
            let file = try await RequestInput.plan(context, engine)
            let from = try RequestInput.integer(request, "from", default: 0, plan: file.id)
            let limit = try RequestInput.integer(request, "limit", default: 100, min: 1, plan: file.id)
            let events = try await engine.events(file, from: from, limit: limit)
            var body: [UInt8] = [UInt8(ascii: "[")]
            for (k, e) in events.enumerated() {
                if k > 0 { body.append(UInt8(ascii: ",")) }
                body += e.bytes
            }
            body += Array("]\n".utf8)
            return Response.json(body)
        }
        router.get("/v1/plans/:plan/events/stream") { request, context in
            let file = try await RequestInput.plan(context, engine)
            _ = try await engine.provenPlan(file)
            let start: Int
            if let last = request.headers[Self.lastEventID] {
                guard let n = Int(last.trimmingCharacters(in: .whitespaces)), n >= -1 else {
                    throw LogbookError(.badInput, "Last-Event-ID must be the seq of the last event received, got \"\(SafeText.escape(String(last.prefix(40))))\"",
                                       plan: file.id, rule: "query")
                }
                start = n + 1
            } else {
                start = try RequestInput.integer(request, "from", default: 0, plan: file.id)
            }
            let feed = try await feeds.feed(file.journalRef, engine: engine)
            let stream = EventStream(engine: engine, feed: feed, ref: file.journalRef, start: start, channel: context.channel,
                                     keepAlive: feeds.keepAlive)
            let headers: HTTPFields = [
                .contentType: "text/event-stream",
                .cacheControl: "no-cache",
                HTTPField.Name("X-Accel-Buffering")!: "no",
            ]
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                try await stream.run(&writer)
                try await writer.finish(nil)
            })
        }
    }
}
