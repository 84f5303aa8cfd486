import AsyncHTTPClient
import LogbookCore
import NIOCore

/// One Server-Sent Event as the server sends a journal event: `id` the seq, `event` the type,
/// `data` the journal line.
public struct ServerSentEvent: Sendable, Equatable {
    public var id: String?
    public var event: String?
    /// The data lines joined with newlines, as UTF-8 bytes (a journal line, for Logbook's stream).
    public var dataBytes: [UInt8]
    public var data: String { String(decoding: dataBytes, as: UTF8.self) }

    public init(id: String?, event: String?, data: String) {
        self.init(id: id, event: event, dataBytes: Array(data.utf8))
    }

    public init(id: String?, event: String?, dataBytes: [UInt8]) {
        self.id = id
        self.event = event
        self.dataBytes = dataBytes
    }
}

/// The SSE wire format (WHATWG HTML, "server-sent events"): lines of `field: value` ending in
/// LF, CRLF or CR, comments starting with `:`, an event dispatched at each blank line; a field
/// without a colon has an empty value, one leading space of a value is dropped, and an event
/// without data is not dispatched. Fed bytes as they arrive, in chunks cut anywhere.
public struct ServerSentEventParser: Sendable {
    /// The start of a line that the last chunk did not finish.
    var partial: [UInt8] = []
    /// The last chunk ended in CR: an LF that starts the next one ends nothing.
    var afterCR = false
    var id: String?
    var event: String?
    var data: [UInt8] = []
    var hasData = false
    /// The last `retry:` the server sent, in milliseconds.
    public private(set) var retryMilliseconds: Int?

    public init() {}

    /// The events completed by `bytes`.
    public mutating func feed(_ bytes: some Collection<UInt8>) -> [ServerSentEvent] {
        if let out = bytes.withContiguousStorageIfAvailable({ feed(buffer: $0) }) { return out }
        return Array(bytes).withUnsafeBufferPointer { feed(buffer: $0) }
    }

    mutating func feed(buffer: UnsafeBufferPointer<UInt8>) -> [ServerSentEvent] {
        var out: [ServerSentEvent] = []
        var start = 0
        if afterCR, buffer.first == 0x0A { start = 1 }
        afterCR = false
        var i = start
        while i < buffer.count {
            let b = buffer[i]
            guard b == 0x0A || b == 0x0D else { i += 1; continue }
            let piece = UnsafeBufferPointer(rebasing: buffer[start..<i])
            let e: ServerSentEvent?
            if partial.isEmpty {
                e = take(line: piece)
            } else {
                partial.append(contentsOf: piece)
                e = partial.withUnsafeBufferPointer { take(line: $0) }
                partial.removeAll(keepingCapacity: true)
            }
            if let e { out.append(e) }
            i += 1
            if b == 0x0D {
                if i < buffer.count { if buffer[i] == 0x0A { i += 1 } } else { afterCR = true }
            }
            start = i
        }
        partial.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[start...]))
        return out
    }

    static let idField = Array("id".utf8), eventField = Array("event".utf8), dataField = Array("data".utf8), retryField = Array("retry".utf8)

    mutating func take(line: UnsafeBufferPointer<UInt8>) -> ServerSentEvent? {
        if line.isEmpty {
            defer { id = nil; event = nil; data = []; hasData = false }
            guard hasData else { return nil }
            return ServerSentEvent(id: id, event: event, dataBytes: data)
        }
        if line[0] == UInt8(ascii: ":") { return nil }
        let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.count
        let field = UnsafeBufferPointer(rebasing: line[..<colon])
        var v = min(colon + 1, line.count)
        if v < line.count, line[v] == 0x20 { v += 1 }
        let value = UnsafeBufferPointer(rebasing: line[v...])
        if field.elementsEqual(Self.dataField) {
            if hasData { data.append(0x0A) }
            data.append(contentsOf: value)
            hasData = true
        } else if field.elementsEqual(Self.idField) {
            id = String(decoding: value, as: UTF8.self)
        } else if field.elementsEqual(Self.eventField) {
            event = String(decoding: value, as: UTF8.self)
        } else if field.elementsEqual(Self.retryField) {
            if let n = Int(String(decoding: value, as: UTF8.self)) { retryMilliseconds = n }
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
                            continuation.yield((seq, e.dataBytes))
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
