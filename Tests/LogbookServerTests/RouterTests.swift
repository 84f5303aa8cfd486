import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LogbookCore
import LogbookEngine
import LogbookServer
import Testing

/// Every endpoint and every error class, in-process (HummingbirdTesting's router framework), on
/// the memory backend.
@Suite struct RouterTests {
    @Test func healthzSaysOK() async throws {
        let f = try await ServerFixture.make()
        try await f.withRouter { client in
            try await client.execute(uri: "/healthz", method: .get) { r in
                #expect(r.status == .ok)
                #expect(r.json == .object(JSONObject([("ok", .bool(true))])))
                #expect(r.headers[.contentType] == "application/json")
            }
        }
    }

    @Test func planListGivesLifecycleCompletionAndHead() async throws {
        let f = try await ServerFixture.make()
        _ = try await f.book.submit(try await f.signed(.started, task: "T1"))
        _ = try await f.book.submit(try await f.signed(.progress, task: "T1", data: ["percent": 50]))
        let state = try await f.book.state()
        try await f.withRouter { client in
            try await client.execute(uri: "/v1/plans", method: .get) { r in
                #expect(r.status == .ok)
                let plans = try #require(r.json?.arrayValue)
                #expect(plans.count == 1)
                let p = try #require(plans.first)
                #expect(p["plan_id"] == .string(ServerFixture.planID))
                #expect(p["lifecycle"] == "ACTIVE")
                #expect(p["completion"] == .number(25))
                #expect(p["head_seq"] == JSONValue(2))
                #expect(p["head_hash"] == .string(state.head!.description))
                #expect(p["current"] == .bool(true))
            }
        }
    }

    @Test func statusIsExactlyWhatStatusJSONPrints() async throws {
        let f = try await ServerFixture.make()
        _ = try await f.book.submit(try await f.signed(.started, task: "T1"))
        let expected = try await f.book.snapshotBytes().bytes
        try await f.withRouter { client in
            try await client.execute(uri: "/v1/plans/\(ServerFixture.planID)/status", method: .get) { r in
                #expect(r.status == .ok)
                #expect(r.bytes == expected)
            }
            // The plan by g and by file name too.
            try await client.execute(uri: "/v1/plans/exec_plan_\(f.file.g)/status", method: .get) { r in #expect(r.bytes == expected) }
            try await client.execute(uri: "/v1/plans/\(ServerFixture.planID)", method: .get) { r in
                #expect(r.status == .ok)
                let doc = try PlanDocument(bytes: r.bytes, name: "r")
                #expect(doc.digest == f.file.document.digest)
            }
        }
    }

    @Test func eventsAreTheJournalLinesOldestFirst() async throws {
        let f = try await ServerFixture.make()
        _ = try await f.book.submit(try await f.signed(.started, task: "T1"))
        for p in [10, 20, 30] { _ = try await f.book.submit(try await f.signed(.progress, task: "T1", data: ["percent": JSONValue(p)])) }
        let lines = try await f.journalLines()
        #expect(lines.count == 5)
        try await f.withRouter { client in
            for (from, limit) in [(0, 100), (1, 2), (3, 100), (4, 1), (5, 10), (99, 10)] {
                try await client.execute(uri: "/v1/plans/\(ServerFixture.planID)/events?from=\(from)&limit=\(limit)", method: .get) { r in
                    #expect(r.status == .ok)
                    let want = Array(lines.dropFirst(from).prefix(limit))
                    var body: [UInt8] = Array("[".utf8) + want.joined(separator: Array(",".utf8)) + Array("]\n".utf8)
                    if want.isEmpty { body = Array("[]\n".utf8) }
                    #expect(r.bytes == body, "from \(from) limit \(limit)")
                }
            }
        }
    }

    @Test func eventsRefuseBadQueries() async throws {
        let f = try await ServerFixture.make()
        try await f.withRouter { client in
            for q in ["from=-1", "from=abc", "limit=0", "limit=1001", "limit=x", "from=1.5"] {
                try await client.execute(uri: "/v1/plans/\(ServerFixture.planID)/events?\(q)", method: .get) { r in
                    #expect(r.status == .badRequest, "\(q)")
                    #expect(r.error?["code"] == "bad_input", "\(q)")
                    #expect(r.error?["plan"] == .string(ServerFixture.planID), "\(q)")
                }
            }
        }
    }

    @Test func aStatementIsCreatedOnceAndARepeatReturnsTheFirstEvent() async throws {
        let f = try await ServerFixture.make()
        let s = try await f.signed(.started, task: "T1")
        let uri = "/v1/plans/\(ServerFixture.planID)/statements"
        try await f.withRouter { client in
            let first = try await client.execute(uri: uri, method: .post, headers: [.contentType: "application/json"], body: ServerFixture.body(s)) { r in
                #expect(r.status == .created)
                #expect(r.headers[.location] == "/v1/plans/\(ServerFixture.planID)/events?from=1&limit=1")
                return r.bytes
            }
            let lines = try await f.journalLines()
            #expect(lines.count == 2)
            #expect(first == lines[1] + [0x0A], "the answer is the journal line, byte for byte")
            try await client.execute(uri: uri, method: .post, headers: [.contentType: "application/json; charset=utf-8"], body: ServerFixture.body(s)) { r in
                #expect(r.status == .ok, "a repeat is 200")
                #expect(r.bytes == first)
            }
            #expect(try await f.journalLines().count == 2, "recorded once")
        }
    }

    /// The server keeps each plan's book open between requests (no plan file read per write). A
    /// lifecycle step taken outside it (freeze and archive, as another process would) still
    /// stops its writes: refused with the rule, nothing written; and a plan it never opened is
    /// still found.
    @Test func anOpenBookFollowsFreezeAndArchiveDoneElsewhere() async throws {
        let f = try await ServerFixture.make()
        let uri = "/v1/plans/\(ServerFixture.planID)/statements"
        let sup = try await f.engine.signingKey(for: "SUPERVISOR")
        try await f.withRouter { client in
            let first = try await f.signed(.started, task: "T1")
            try await client.execute(uri: uri, method: .post, headers: [.contentType: "application/json"], body: ServerFixture.body(first)) { r in
                #expect(r.status == .created)
            }
            let book = try await f.engine.book(plan: ServerFixture.planID)
            #expect(try await f.engine.book(plan: ServerFixture.planID) === book, "the same book, from the name")
            #expect(try await f.engine.book(plan: String(f.file.g)) === book, "and from g")
            let key = try await f.engine.signingKey(for: "WORKER")
            _ = try await book.submit(EventRequest(type: .done, task: "T1", persona: "WORKER", data: ["summary": "T1 done"]), signer: key)
            for type in [EventType.started, .done] {
                _ = try await book.submit(EventRequest(type: type, task: "T2", persona: "WORKER", data: type == .done ? ["summary": "T2 done"] : [:]), signer: key)
            }
            _ = try await f.engine.validate(f.file, persona: "SUPERVISOR", signer: sup)
            _ = try await f.engine.freeze(f.file, persona: "SUPERVISOR", signer: sup)
            let frozen = try await f.journalLines().count
            let late = try await f.signed(.achievement, task: "T1")
            try await client.execute(uri: uri, method: .post, headers: [.contentType: "application/json"], body: ServerFixture.body(late)) { r in
                #expect(r.status == .conflict)
                #expect(String(buffer: r.body).lowercased().contains("frozen"), "says why: \(String(buffer: r.body))")
            }
            _ = try await f.engine.archive(f.file, persona: "SUPERVISOR", signer: sup)
            let archived = try await f.journalLines().count
            #expect(archived == frozen + 1)
            try await client.execute(uri: uri, method: .post, headers: [.contentType: "application/json"], body: ServerFixture.body(late)) { r in
                #expect(r.status.code / 100 == 4, "refused after archive: \(r.status)")
            }
            #expect(try await f.journalLines().count == archived, "nothing written after freeze and archive")
            try await client.execute(uri: "/v1/plans/NO-SUCH-PLAN/statements", method: .post, headers: [.contentType: "application/json"],
                                     body: ServerFixture.body(late)) { r in
                #expect(r.status == .notFound)
            }
        }
    }

    /// Each bad request: its status, its error code and rule, the error object the engine itself
    /// throws for a statement, and nothing written.
    @Test func everyBadStatementIsA4xxNamingItAndWritesNothing() async throws {
        let f = try await ServerFixture.make()
        _ = try await f.book.submit(try await f.signed(.started, task: "T1"))
        let uri = "/v1/plans/\(ServerFixture.planID)/statements"
        let json: HTTPFields = [.contentType: "application/json"]
        let good = try await f.signed(.progress, task: "T1", data: ["percent": 10])
        let goodBody = ServerFixture.body(good)
        let other = try await f.engine.signingKey(for: "OTHER")
        var forged = try JSONParser.parse(Array(buffer: goodBody)).objectValue!
        forged["sig"] = .string(Base64.encode(other.sign(message: Statement.signingBytes(good.bytes))))
        var unsignedWithKey = try JSONParser.parse(Array(buffer: goodBody)).objectValue!
        unsignedWithKey["sig"] = nil

        struct Case {
            var name: String
            var headers: HTTPFields
            var body: ByteBuffer
            var status: HTTPResponse.Status
            var code: String
            var rule: String?
            /// The statement, when it parses: the engine must throw the same error object.
            var statement: SignedStatement?
        }
        func b(_ s: String) -> ByteBuffer { ByteBuffer(string: s) }
        func signedBody(_ s: SignedStatement) -> ByteBuffer { ServerFixture.body(s) }
        let cases: [Case] = [
            Case(name: "malformed JSON", headers: json, body: b("{\"stmt\":"), status: .badRequest, code: "bad_input", rule: "json"),
            Case(name: "not an object", headers: json, body: b("[1,2]"), status: .badRequest, code: "bad_input", rule: "json"),
            Case(name: "unknown member", headers: json, body: b("{\"stmt\":{},\"key\":\"x\"}"), status: .badRequest, code: "bad_input", rule: "json"),
            Case(name: "no stmt", headers: json, body: b("{\"sig\":\"AAAA\"}"), status: .badRequest, code: "bad_input", rule: "statement"),
            Case(name: "stmt missing fields", headers: json, body: b("{\"stmt\":{\"plan\":\"EP-SERVER\"}}"), status: .badRequest, code: "bad_input", rule: "statement"),
            Case(name: "sig not base64", headers: json, body: b("{\"stmt\":{},\"sig\":\"***\"}"), status: .badRequest, code: "bad_input", rule: "signature"),
            Case(name: "wrong content type", headers: [.contentType: "text/plain"], body: goodBody, status: .unsupportedMediaType, code: "unsupported_media_type", rule: "content_type"),
            Case(name: "no content type", headers: [:], body: goodBody, status: .unsupportedMediaType, code: "unsupported_media_type", rule: "content_type"),
            Case(name: "over 64 KiB", headers: json, body: b("{\"stmt\":{\"x\":\"" + String(repeating: "a", count: 70_000) + "\"}}"),
                 status: .contentTooLarge, code: "too_large", rule: "size"),
            Case(name: "another plan's statement", headers: json, body: signedBody(try await f.signed(.progress, task: "T1", data: ["percent": 20], plan: "EP-ELSEWHERE")),
                 status: .badRequest, code: "bad_input", rule: "plan", statement: try await f.signed(.progress, task: "T1", data: ["percent": 20], plan: "EP-ELSEWHERE")),
            Case(name: "signed with another persona's key", headers: json, body: ByteBuffer(bytes: CanonicalJSON.bytes(.object(forged))),
                 status: .forbidden, code: "bad_signature", rule: "signature"),
            Case(name: "key id without a signature", headers: json, body: ByteBuffer(bytes: CanonicalJSON.bytes(.object(unsignedWithKey))),
                 status: .forbidden, code: "bad_signature", rule: "signature"),
            Case(name: "wrong persona", headers: json, body: signedBody(try await f.signed(.progress, task: "T1", persona: "OTHER", data: ["percent": 30])),
                 status: .forbidden, code: "forbidden", rule: "assignee"),
            Case(name: "illegal transition", headers: json, body: signedBody(try await f.signed(.started, task: "T1")),
                 status: .conflict, code: "refused", rule: nil),
            Case(name: "dependency not done", headers: json, body: signedBody(try await f.signed(.started, task: "T2")),
                 status: .conflict, code: "refused", rule: "dependencies_done"),
            Case(name: "unknown task", headers: json, body: signedBody(try await f.signed(.progress, task: "T99", data: ["percent": 1])),
                 status: .notFound, code: "not_found", rule: nil),
            Case(name: "percent out of range", headers: json, body: signedBody(try await f.signed(.progress, task: "T1", data: ["percent": 101])),
                 status: .badRequest, code: "bad_input", rule: nil),
        ]
        let before = try await f.journalLines()
        try await f.withRouter { client in
            for c in cases {
                try await client.execute(uri: uri, method: .post, headers: c.headers, body: c.body) { r in
                    #expect(r.status == c.status, "\(c.name): \(String(decoding: r.bytes, as: UTF8.self))")
                    let e = try #require(r.error, "\(c.name): an error object")
                    #expect(e["code"] == .string(c.code), "\(c.name)")
                    if let rule = c.rule { #expect(e["rule"] == .string(rule), "\(c.name)") }
                    #expect(e["message"]?.stringValue?.isEmpty == false, "\(c.name)")
                    #expect(Set(LogbookError.jsonFields).isSubset(of: Set(e.keys)), "\(c.name): every member of the CLI's error object")
                    #expect(r.headers[.contentType] == "application/json")
                }
            }
            // The server keeps serving after all of them.
            try await client.execute(uri: "/healthz", method: .get) { r in #expect(r.status == .ok) }
        }
        #expect(try await f.journalLines() == before, "nothing was written")
        // For statements that parse, the object is the engine's own error, member for member.
        for c in cases where c.headers[.contentType] == "application/json" {
            guard let body = c.body.getBytes(at: 0, length: c.body.readableBytes),
                  let v = try? JSONParser.parse(body), let stmt = v["stmt"], let sig = v["sig"]?.stringValue.flatMap(Base64.decode),
                  let s = try? SignedStatement(bytes: CanonicalJSON.bytes(stmt), sig: sig) else { continue }
            let engineError = await #expect(throws: LogbookError.self, "\(c.name)") { _ = try await f.book.record(s) }
            guard let engineError else { continue }
            try await f.withRouter { client in
                try await client.execute(uri: uri, method: .post, headers: json, body: c.body) { r in
                    #expect(r.bytes == CanonicalJSON.bytes(engineError.json) + [0x0A], "\(c.name): the CLI's --json error object")
                }
            }
        }
        #expect(try await f.journalLines() == before)
    }

    @Test func idsInPathsAreCheckedLikeEveryOtherID() async throws {
        let f = try await ServerFixture.make()
        let bad = ["..", "%2e%2e", "%2e%2e%2f", "..%2F..%2Fetc", "a%2Fb", "pl%C3%A4n", String(repeating: "x", count: 129), "%00"]
        let before = try await f.journalLines()
        try await f.withRouter { client in
            for id in bad {
                for (path, method) in [("/v1/plans/\(id)/status", HTTPRequest.Method.get), ("/v1/plans/\(id)/events", .get),
                                       ("/v1/plans/\(id)/verify", .get), ("/v1/plans/\(id)", .get),
                                       ("/v1/plans/\(id)/events/stream", .get), ("/v1/plans/\(id)/statements", .post)] {
                    try await client.execute(uri: path, method: method, headers: [.contentType: "application/json"], body: ByteBuffer(string: "{}")) { r in
                        #expect(r.status == .badRequest, "\(method) \(path)")
                        #expect(r.error?["code"] == "bad_input", "\(path)")
                        #expect(r.error?["rule"] == "id", "\(path)")
                    }
                }
            }
            for id in ["NOPE", "exec_plan_999", "999"] {
                try await client.execute(uri: "/v1/plans/\(id)/status", method: .get) { r in
                    #expect(r.status == .notFound, "\(id)")
                    #expect(r.error?["code"] == "not_found")
                }
            }
            try await client.execute(uri: "/v2/nothing/here", method: .get) { r in
                #expect(r.status == .notFound)
                #expect(r.error?["code"] == "not_found")
            }
        }
        #expect(try await f.journalLines() == before)
    }

    @Test func verifyGivesTheReportVerifyJSONPrints() async throws {
        let f = try await ServerFixture.make()
        _ = try await f.book.submit(try await f.signed(.started, task: "T1"))
        let expected = PrettyJSON.bytes(try await f.engine.verify(f.file).json)
        try await f.withRouter { client in
            try await client.execute(uri: "/v1/plans/\(ServerFixture.planID)/verify", method: .get) { r in
                #expect(r.status == .ok)
                #expect(r.bytes == expected)
                #expect(r.json?["ok"] == .bool(true))
                #expect(r.json?["events"] == JSONValue(2))
            }
        }
    }

    @Test func metricsAreThePrometheusTextOfWhatHappened() async throws {
        let f = try await ServerFixture.make()
        let uri = "/v1/plans/\(ServerFixture.planID)/statements"
        try await f.withRouter { client in
            try await client.execute(uri: uri, method: .post, headers: [.contentType: "application/json"], body: ServerFixture.body(try await f.signed(.started, task: "T1"))) { r in
                #expect(r.status == .created)
            }
            try await client.execute(uri: uri, method: .post, headers: [.contentType: "application/json"], body: ServerFixture.body(try await f.signed(.started, task: "T2"))) { r in
                #expect(r.status == .conflict)
            }
            try await client.execute(uri: "/v1/plans/\(ServerFixture.planID)/verify", method: .get) { _ in }
            try await client.execute(uri: "/metrics", method: .get) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                let text = String(decoding: r.bytes, as: UTF8.self)
                for needle in ["# TYPE logbook_events_appended_total counter",
                               "logbook_events_appended_total{plan=\"EP-SERVER\",type=\"started\"}",
                               "logbook_writes_refused_total{code=\"refused\",rule=\"dependencies_done\"}",
                               "# TYPE logbook_append_seconds histogram", "logbook_append_seconds_bucket{le=\"+Inf\"}",
                               "# TYPE logbook_commit_batch_size histogram", "logbook_commit_seconds_count",
                               "logbook_verify_total{result=\"ok\"}"] {
                    #expect(text.contains(needle), "missing \(needle)")
                }
            }
        }
    }

    @Test func aReadTokenGuardsReadsButNotHealthzOrSignedWrites() async throws {
        let token = "t0ken-0123456789abcdef"
        let f = try await ServerFixture.make(readToken: token)
        let plan = "/v1/plans/\(ServerFixture.planID)/status"
        try await f.withRouter { client in
            try await client.execute(uri: plan, method: .get) { r in
                #expect(r.status == .unauthorized)
                #expect(r.error?["code"] == "unauthorized")
                #expect(r.headers[.wwwAuthenticate] == "Bearer")
            }
            try await client.execute(uri: plan, method: .get, headers: [.authorization: "Bearer wrong-token-000000000"]) { r in
                #expect(r.status == .unauthorized)
            }
            try await client.execute(uri: plan, method: .get, headers: [.authorization: "Bearer \(token)"]) { r in #expect(r.status == .ok) }
            try await client.execute(uri: "/healthz", method: .get) { r in #expect(r.status == .ok) }
            try await client.execute(uri: "/v1/plans/\(ServerFixture.planID)/statements", method: .post, headers: [.contentType: "application/json"],
                                     body: ServerFixture.body(try await f.signed(.started, task: "T1"))) { r in #expect(r.status == .created) }
        }
    }
}
