import Foundation
import Hummingbird
import LogbookCore
import LogbookEngine
import NIOCore
import ServiceLifecycle

/// One Server-Sent Events stream of a plan's journal (`GET /v1/plans/{plan}/events/stream`).
///
/// Each journal event is one SSE event: `id: <seq>`, `event: <type>`, `data: <the journal
/// line>`. The stream starts at the seq after `Last-Event-ID`, else at `?from=SEQ`, else at 0,
/// and sends every durable event from there in seq order, with no gap and no duplicate. It opens
/// with `retry:` and sends a comment at least every `keepAlive` (15 s by default) while nothing happens. It ends
/// on graceful shutdown with a comment naming the last id sent (the client resumes from it).
struct EventStream: Sendable {
    /// What the stream tells clients to wait before they reconnect (the `retry:` field).
    static let retryMilliseconds = 2000
    /// Events per write.
    static let batch = 256

    let engine: LogbookEngine
    let feed: EventFeed
    let ref: JournalRef
    let start: Int
    let channel: (any Channel)?
    /// Quiet streams send a comment this often, so proxies keep them open.
    let keepAlive: Duration

    /// SSE's text for one event.
    static func encode(_ e: EventLine, into buffer: inout ByteBuffer) {
        buffer.writeString("id: \(e.seq)\nevent: \(e.type.rawValue)\ndata: ")
        buffer.writeBytes(e.bytes)
        buffer.writeString("\n\n")
    }

    func run(_ writer: inout any ResponseBodyWriter) async throws {
        let (id, wakes) = feed.subscribe(channel: channel)
        ServerMetrics.streamOpened()
        defer {
            feed.unsubscribe(id)
            ServerMetrics.streamClosed()
        }
        var next = start
        var storeCursor: Int64?
        var lastWrite = ContinuousClock.now
        /// Every write is watched: one that does not finish within the stall limit (the client
        /// stopped reading) gets the connection closed, even after the feed closed.
        func write(_ buffer: ByteBuffer, _ writer: inout any ResponseBodyWriter) async throws {
            feed.writing(id, true)
            defer { feed.writing(id, false) }
            try await writer.write(buffer)
            lastWrite = .now
        }
        func send(_ events: some Collection<EventLine>, _ writer: inout any ResponseBodyWriter) async throws {
            var buffer = ByteBuffer()
            for e in events { Self.encode(e, into: &buffer) }
            try await write(buffer, &writer)
            ServerMetrics.eventsSent(events.count)
        }
        try await write(ByteBuffer(string: "retry: \(Self.retryMilliseconds)\n: plan \(ref.planID) from seq \(start)\n\n"), &writer)
        var iterator = wakes.makeAsyncIterator()
        while true {
            // Everything available now, from the feed's window or (behind it) from the store.
            draining: while true {
                switch feed.window(from: next, max: Self.batch) {
                case .closed(let failure):
                    let why = failure.map { "the journal could not be read: \($0.description)" } ?? "the server is shutting down"
                    try await write(ByteBuffer(string: ": \(SafeText.escape(why)); resume with Last-Event-ID: \(next - 1)\n\n"), &writer)
                    return
                case .events(let events):
                    guard let last = events.last else { break draining }
                    try await send(events, &writer)
                    next = last.seq + 1
                    storeCursor = nil
                case .behind:
                    let at: Int64
                    if let storeCursor { at = storeCursor } else { at = try await engine.position(before: next, ref) }
                    let events = try await engine.events(ref, from: next, at: at, limit: Self.batch)
                    guard let last = events.last else { break draining }
                    try await send(events, &writer)
                    next = last.seq + 1
                    storeCursor = last.end
                }
            }
            // Wait for the feed: new events, its tick, or its end.
            guard await iterator.next() != nil else {
                if case .events(let more) = feed.window(from: next, max: Self.batch), !more.isEmpty { continue }
                try await write(ByteBuffer(string: ": the server is shutting down; resume with Last-Event-ID: \(next - 1)\n\n"), &writer)
                return
            }
            if lastWrite.duration(to: .now) >= keepAlive { try await write(ByteBuffer(string: ": keep-alive\n\n"), &writer) }
        }
    }
}
