import LogbookClient
import Testing

/// The client's SSE parser (WHATWG "server-sent events"): the events it dispatches do not
/// depend on where the network cut the bytes, and it follows the format's line rules.
@Suite struct ServerSentEventParserTests {
    static let wire = Array((
        "retry: 2000\n: plan EP from seq 0\n\n"
            + "id: 0\nevent: genesis\ndata: {\"seq\":0}\n\n"
            + ": keep-alive\n\n"
            + "id: 1\r\nevent: progress\r\ndata: {\"seq\":1,\"note\":\"a: b\"}\r\n\r\n"
            + "id: 2\revent: done\rdata:first\rdata: second\r\r"
            + "id: 3\ndata\n\n"
            + "id: 4\nevent: ignored-no-data\n\n"
            + "id: 5\nunknown: field\ndata: é✓\n\n"
    ).utf8)

    static let expected = [
        ServerSentEvent(id: "0", event: "genesis", data: #"{"seq":0}"#),
        ServerSentEvent(id: "1", event: "progress", data: #"{"seq":1,"note":"a: b"}"#),
        ServerSentEvent(id: "2", event: "done", data: "first\nsecond"),
        ServerSentEvent(id: "3", event: nil, data: ""),
        ServerSentEvent(id: "5", event: nil, data: "é✓"),
    ]

    @Test func oneChunk() {
        var p = ServerSentEventParser()
        #expect(p.feed(Self.wire) == Self.expected)
        #expect(p.retryMilliseconds == 2000)
    }

    @Test func everyCutIntoTwoChunksGivesTheSameEvents() {
        for cut in 0...Self.wire.count {
            var p = ServerSentEventParser()
            let got = p.feed(Self.wire[..<cut]) + p.feed(Self.wire[cut...])
            #expect(got == Self.expected, "cut at byte \(cut)")
        }
    }

    @Test func byteByByte() {
        var p = ServerSentEventParser()
        var got: [ServerSentEvent] = []
        for b in Self.wire { got += p.feed([b]) }
        #expect(got == Self.expected)
    }

    @Test func anUnfinishedEventIsNotDispatched() {
        var p = ServerSentEventParser()
        #expect(p.feed(Array("id: 9\ndata: half".utf8)).isEmpty)
        #expect(p.feed(Array(" more\n".utf8)).isEmpty)
        #expect(p.feed(Array("\n".utf8)) == [ServerSentEvent(id: "9", event: nil, data: "half more")])
    }
}
