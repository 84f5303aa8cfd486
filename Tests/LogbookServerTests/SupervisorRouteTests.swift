import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LogbookCore
import LogbookEngine
import LogbookServer
import Testing

/// The supervisor's endpoints (issue 12) and the cockpit's routes, in-process.
@Suite struct SupervisorRouteTests {
    static let plan = "/v1/plans/\(ServerFixture.planID)"

    @Test func tasksStaleBlockedAndNextAreTheEngineViewsAtTheServersClock() async throws {
        let f = try await ServerFixture.make(tasks: 3)
        let key = try await f.engine.signingKey(for: "WORKER")
        let book = try await f.book
        _ = try await book.submit(EventRequest(type: .started, task: "T1", persona: "WORKER", data: ["lease_seconds": 3600]), signer: key)
        _ = try await book.submit(EventRequest(type: .blocked, task: "T1", persona: "WORKER", data: ["reason": "<script>x</script>"]), signer: key)
        try await f.withRouter { client in
            let tasks = try await client.execute(uri: Self.plan + "/tasks", method: .get) { r in
                #expect(r.status == .ok)
                return r.json
            }
            let rows = try #require(tasks?["tasks"]?.arrayValue)
            #expect(rows.map { $0["task_id"] } == ["T1", "T2", "T3"] && tasks?["plan_id"] == "EP-SERVER" && tasks?["now"]?.stringValue != nil)
            #expect(rows[0]["owner"] == "WORKER" && rows[0]["status"] == "BLOCKED" && rows[0]["stale"] == false)
            #expect(rows[0]["lease"]?["seconds"] == 3600 && rows[0]["blocker"]?["reason"] == "<script>x</script>")
            #expect(rows[1]["owner"] == .null && rows[1]["last_event_seq"] == .null)
            // The same object as `task list --json` builds from the same state.
            let view = SupervisorView(state: try await book.state(), now: Date())
            #expect(rows[2] == view.task(view.state.plan.tasks[2]))

            try await client.execute(uri: Self.plan + "/blocked", method: .get) { r in
                #expect(r.json?["tasks"]?.arrayValue?.map { $0["task_id"] } == ["T1"])
                #expect(r.json?["tasks"]?.arrayValue?.first?["blocked_seconds"]?.doubleValue != nil)
            }
            try await client.execute(uri: Self.plan + "/stale?older_than=0", method: .get) { r in
                #expect(r.status == .ok && r.json?["tasks"]?.arrayValue?.isEmpty == true, "BLOCKED within its lease: not stale, not listed")
            }
            try await client.execute(uri: Self.plan + "/next?persona=WORKER", method: .get) { r in
                #expect(r.json?["tasks"]?.arrayValue?.isEmpty == true, "T2 and T3 wait for T1")
            }
            for (uri, status, rule) in [(Self.plan + "/stale?older_than=soon", HTTPResponse.Status.badRequest, "query"),
                                        (Self.plan + "/next", .badRequest, "query"),
                                        (Self.plan + "/next?persona=../x", .badRequest, "query"),
                                        (Self.plan + "/next?persona=NOBODY", .notFound, "persona"),
                                        (Self.plan + "/report", .notFound, "report"),
                                        ("/v1/plans/NOPE/tasks", .notFound, nil)] {
                try await client.execute(uri: uri, method: .get) { r in
                    #expect(r.status == status, "\(uri): \(r.status)")
                    #expect(r.json?["error"]?["rule"] == JSONValue(rule), "\(uri): \(String(buffer: r.body))")
                }
            }
        }
    }

    @Test func theReportOfAFrozenPlanIsWhatItsJournalGives() async throws {
        let f = try await ServerFixture.make()
        let key = try await f.engine.signingKey(for: "WORKER"), sup = try await f.engine.signingKey(for: "SUPERVISOR")
        let book = try await f.book
        for t in ["T1", "T2"] {
            _ = try await book.submit(EventRequest(type: .started, task: t, persona: "WORKER"), signer: key)
            _ = try await book.submit(EventRequest(type: .done, task: t, persona: "WORKER", data: ["summary": "ok"]), signer: key)
        }
        _ = try await f.engine.validate(f.file, persona: "SUPERVISOR", signer: sup)
        _ = try await f.engine.freeze(f.file, persona: "SUPERVISOR", signer: sup)
        let stored = try #require(try await f.engine.artifacts.load(.reportJSON, of: f.file.journalRef))
        try await f.withRouter { client in
            for _ in 0..<2 {  // built, then kept
                try await client.execute(uri: Self.plan + "/report", method: .get) { r in
                    #expect(r.status == .ok)
                    #expect(r.json?["verdict"] == "PASS")
                    #expect(r.json == (try? JSONParser.parse(stored)), "the stored report, rebuilt from the journal")
                }
            }
        }
    }

    /// A cockpit folder of the test's own: pages and files served as they are with the security
    /// headers, nothing outside it, no path, no odd names.
    @Test func cockpitFilesAreServedWithASecurityPolicyAndNothingElseIs() async throws {
        let dir = NSTemporaryDirectory() + "cockpit-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, text) in [("index.html", "<p>list</p>"), ("plan.html", "<p>plan</p>"), ("cockpit.js", "1;"), ("cockpit.css", "p{}")] {
            try Data(text.utf8).write(to: URL(fileURLWithPath: dir + "/" + name))
        }
        try Data("secret".utf8).write(to: URL(fileURLWithPath: dir + "/../secret-\(UUID().uuidString.prefix(4)).js"))
        let f = try await ServerFixture.make(readToken: "token-0123456789abcdef", cockpitDirectory: dir)
        try await f.withRouter { client in
            for (uri, body, type) in [("/", "<p>list</p>", "text/html"), ("/plans/EP-SERVER", "<p>plan</p>", "text/html"),
                                      ("/cockpit/cockpit.js", "1;", "text/javascript"), ("/cockpit/cockpit.css", "p{}", "text/css")] {
                try await client.execute(uri: uri, method: .get) { r in
                    #expect(r.status == .ok, "\(uri): no token needed for a page without data")
                    #expect(String(buffer: r.body) == body)
                    #expect(r.headers[.contentType]?.hasPrefix(type) == true)
                    #expect(r.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("script-src 'self'") == true)
                    #expect(r.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
                }
            }
            // Edits show on the next request (a development folder is read each time).
            try Data("2;".utf8).write(to: URL(fileURLWithPath: dir + "/cockpit.js"))
            try await client.execute(uri: "/cockpit/cockpit.js", method: .get) { r in #expect(String(buffer: r.body) == "2;") }
            for uri in ["/cockpit/..%2Fsecret.js", "/cockpit/%2e%2e%2fsecret.js", "/cockpit/Cockpit.JS", "/cockpit/x.exe", "/cockpit/.hidden.js", "/cockpit/none.js"] {
                try await client.execute(uri: uri, method: .get) { r in
                    #expect(r.status == .notFound, "\(uri): \(r.status)")
                    #expect(r.json?["error"]?["rule"] == "cockpit")
                }
            }
            try await client.execute(uri: "/plans/..%2F..", method: .get) { r in #expect(r.status == .badRequest) }
            // The data the pages read still needs the token: a header, or ?access_token= (EventSource).
            try await client.execute(uri: "/v1/plans", method: .get) { r in #expect(r.status == .unauthorized) }
            try await client.execute(uri: "/v1/plans?access_token=token-0123456789abcdef", method: .get) { r in #expect(r.status == .ok) }
            try await client.execute(uri: "/v1/plans?access_token=wrong-0123456789abcdef", method: .get) { r in #expect(r.status == .unauthorized) }
            try await client.execute(uri: "/plans/EP-SERVER/tasks", method: .get) { r in
                #expect(r.status == .unauthorized || r.status == .notFound, "only the page itself is open, not paths under it")
            }
        }
    }
}
