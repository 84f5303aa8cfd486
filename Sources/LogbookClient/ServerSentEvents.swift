import AsyncHTTPClient
import LogbookCore
import NIOCore

/// One Server-Sent Event as the server sends a journal event: `id` the seq, `event` the type,
/// `data` the journal line.
public struct ServerSentEvent: Sendable, Equatable {
    public var id: String?
    public var event: String?
    public var data: String

    public init(id: String?, event: String?, data: String) {
        self.id = id
        self.event = event
        self.data = data
    }
}

/// The SSE wire format (WHATWG HTML, "server-sent events"): lines of `field: value`, comments
/// starting with `:`, an event dispatched at each blank line. Fed bytes as they arrive.
public struct ServerSentEventParser: Sendable {
    var line: [UInt8] = []
    var id: String?
    var event: String?
    var data: [String] = []
    /// The last `retry:` the server sent, in milliseconds.
    public private(set) var retryMilliseconds: Int?

    public init() {}

    /// The events completed by `bytes`.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [ServerSentEvent] {
        var out: [ServerSentEvent] = []
        for b in bytes {
            if b == 0x0A {
                if line.last == 0x0D { line.removeLast() }
                if let e = take(line: line) { out.append(e) }
                line.removeAll(keepingCapacity: true)
            } else {
                line.append(b)
            }
        }
        return out
    }

    mutating func take(line: [UInt8]) -> ServerSentEvent? {
        if line.isEmpty {
            defer { id = nil; event = nil; data = [] }
            guard !data.isEmpty else { return nil }
            return ServerSentEvent(id: id, event: event, data: data.joined(separator: "\n"))
        }
        if line.first == UInt8(ascii: ":") { return nil }
        let text = String(decoding: line, as: UTF8.self)
        let field: Substring, value: Substring
        if let colon = text.firstIndex(of: ":") {
            field = text[..<colon]
            var v = text[text.index(after: colon)...]
            if v.first == " " { v = v.dropFirst() }
            value = v
        } else {
            field = text[...]
            value = ""
        }
        switch field {
        case "id": id = String(value)
        case "event": event = String(value)
        case "data": data.append(String(value))
        case "retry": if let n = Int(value) { retryMilliseconds = n }
        default: break
        }
        return nil
    }
}

extension RemoteLogbook {
    /// `GET /v1/plans/{plan}/events/stream` from seq `from` (sent as `Last-Event-ID: from − 1`),
    /// as journal events in seq order. The stream ends when the server closes it (shutdown, a
    /// stall); the caller resumes from the last seq it got.
    ///
    /// - Throws: the server's error for a refused stream (unknown plan, bad id); `.unavailable`
    ///   when it cannot be reached or the connection breaks.
    public func stream(_ plan: String, from: Int) async throws -> AsyncThrowingStream<(seq: Int, line: [UInt8]), any Error> {
        var r = request("/v1/plans/\(Self.segment(plan))/events/stream")
        r.headers.replaceOrAdd(name: "Accept", value: "text/event-stream")
        r.headers.add(name: "Last-Event-ID", value: String(from - 1))
        let response: HTTPClientResponse
        do { response = try await client.execute(r, timeout: .hours(24 * 365)) } catch {
            throw LogbookError(.unavailable, "cannot reach the server at \(base): \(Self.describe(error))",
                               facts: ["server": .string(base)])
        }
        if response.status.code >= 400 {
            let body = (try? await response.body.collect(upTo: 1 << 20)).map { Array(buffer: $0) } ?? []
            throw Self.error(from: body, status: Int(response.status.code), base: base)
        }
        let base = self.base
        return AsyncThrowingStream { continuation in
            let task = Task {
                var parser = ServerSentEventParser()
                do {
                    for try await chunk in response.body {
                        for e in parser.feed(chunk.readableBytesView) {
                            guard let id = e.id, let seq = Int(id) else { continue }
                            continuation.yield((seq, Array(e.data.utf8)))
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: LogbookError(.unavailable, "the stream from \(base) broke: \(Self.describe(error))"))
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
