import Foundation
import LogbookCore
import LogbookFileStore
import LogbookStoreConformance
import Testing

/// Issue 12 on the file backend and the CLI: a claim raced by separate processes has exactly
/// one winner; `task start --lease`, `task heartbeat`, `stale`, `blocked`, `next` and
/// `task requeue` as an agent and a supervisor use them.
@Suite(.serialized) struct SupervisionCLITests {
    /// SUPERVISOR, WORKER, WORKER2 and six TESTER personas; the standard plan (T5 is WORKER2's,
    /// and TESTERs may take it).
    static func workspace(_ name: String) async throws -> CLIFixture {
        let ws = try Workspace.create(at: TestSupport.tempDirectory(name))
        try await ws.engine.addPersona("SUPERVISOR", role: .supervisor)
        try await ws.engine.addPersona("WORKER", role: .worker, archetype: "IMPLEMENTER")
        try await ws.engine.addPersona("WORKER2", role: .worker, archetype: "IMPLEMENTER")
        for k in 1...6 { try await ws.engine.addPersona("TESTER_\(k)", role: .worker, archetype: "TESTER") }
        _ = try await ws.engine.importPlan(bytes: CanonicalJSON.bytes(TestSupport.planJSON()), name: "plan.json")
        let (file, _) = try await ws.engine.lockPlan("EP-TEST", persona: "SUPERVISOR", signer: try await ws.engine.signingKey(for: "SUPERVISOR"))
        return CLIFixture(ws: ws, plan: file, scratch: TestSupport.tempDirectory(name + "-scratch"))
    }

    @Test func sevenProcessesRaceToStartATaskAndExactlyOneWins() async throws {
        for round in 0..<3 {
            let f = try await Self.workspace("race\(round)")
            let racers = ["WORKER2"] + (1...6).map { "TESTER_\($0)" }
            var pids: [(String, pid_t, String)] = []
            for p in racers {
                let err = f.scratch + "/\(p).err"
                let pid = try Spawn.start(TestSupport.binary, ["task", "start", "T5", "--persona", p, "--json", "--workspace", f.root],
                                          environment: ProcessInfo.processInfo.environment, stdout: f.scratch + "/\(p).out", stderr: err)
                pids.append((p, pid, err))
            }
            var winners: [String] = []
            for (p, pid, err) in pids {
                let status = try Spawn.wait(pid)
                if status == 0 { winners.append(p); continue }
                let e = try JSONParser.parse(Array(FileManager.default.contents(atPath: err) ?? Data()))["error"]
                #expect(e?["rule"] == "owner" && e?["task"] == "T5", "round \(round), \(p) exited \(status): \(e.map(CanonicalJSON.string) ?? "")")
            }
            #expect(winners.count == 1, "round \(round): winners \(winners)")
            let started = f.journalLines().filter { $0.contains("\"type\":\"started\"") }
            #expect(started.count == 1, "one started event in the journal")
            let show = try JSONParser.parse(Array(try f.ok(["task", "show", "T5", "--json"]).stdout.utf8))
            #expect(show["owner"]?.stringValue == winners.first)
            try f.ok(["verify"])
        }
    }

    @Test func aSupervisorSeesWhoWentQuietAndRequeuesIt() async throws {
        let f = try await Self.workspace("supervise")
        try f.ok(["task", "start", "T5", "--persona", "TESTER_1", "--lease", "5s"])
        try f.ok(["task", "heartbeat", "T5", "--persona", "TESTER_1", "--note", "alive"])
        let other = try f.cli(["task", "heartbeat", "T5", "--persona", "TESTER_2", "--json"])
        #expect(other.status == 5 || other.status == 3, "another persona's heartbeat is refused: \(other.stderr)")
        #expect(other.stderr.contains("\"rule\":\"owner\""))
        try f.ok(["task", "start", "T1", "--persona", "WORKER"])
        try f.ok(["task", "block", "T1", "--reason", "<img src=x onerror=alert(1)>", "--persona", "WORKER"])

        // Fresh: nothing stale; the blocker is listed with its reason, escaped in text.
        var stale = try JSONParser.parse(Array(try f.ok(["stale", "--json"]).stdout.utf8))
        #expect(stale["tasks"]?.arrayValue?.isEmpty == true)
        let blocked = try JSONParser.parse(Array(try f.ok(["blocked", "--json"]).stdout.utf8))
        #expect(blocked["tasks"]?.arrayValue?.map { $0["task_id"] } == ["T1"])
        #expect(blocked["tasks"]?.arrayValue?.first?["blocker"]?["reason"] == "<img src=x onerror=alert(1)>")
        #expect(blocked["tasks"]?.arrayValue?.first?["blocker"]?["persona_id"] == "WORKER")
        #expect(try f.ok(["blocked"]).stdout.contains("WORKER"))

        // The lease runs out (no heartbeat for 5 s): stale everywhere it is shown.
        try await Task.sleep(for: .seconds(6))
        stale = try JSONParser.parse(Array(try f.ok(["stale", "--json"]).stdout.utf8))
        #expect(stale["tasks"]?.arrayValue?.map { $0["task_id"] } == ["T5"])
        #expect(stale["tasks"]?.arrayValue?.first?["stale"] == true && stale["tasks"]?.arrayValue?.first?["owner"] == "TESTER_1")
        #expect(try f.ok(["stale"]).stdout.contains("STALE"))
        #expect(try f.ok(["task", "list"]).stdout.contains("STALE"))
        let quiet = try JSONParser.parse(Array(try f.ok(["stale", "--older-than", "1s", "--json"]).stdout.utf8))
        #expect(Set(quiet["tasks"]?.arrayValue?.compactMap { $0["task_id"]?.stringValue } ?? []) == ["T5"], "T1 is BLOCKED without a lease: not listed")

        // A worker cannot requeue; the supervisor can, and another tester claims it.
        #expect(try f.cli(["task", "requeue", "T5", "--reason", "mine", "--persona", "TESTER_2"]).status != 0)
        try f.ok(["task", "requeue", "T5", "--reason", "TESTER_1 went quiet", "--persona", "SUPERVISOR"])
        let next = try JSONParser.parse(Array(try f.ok(["next", "--persona", "TESTER_2", "--json"]).stdout.utf8))
        #expect(next["tasks"]?.arrayValue?.map { $0["task_id"] } == ["T5"])
        try f.ok(["task", "start", "T5", "--persona", "TESTER_2"])
        let show = try JSONParser.parse(Array(try f.ok(["task", "show", "T5", "--json"]).stdout.utf8))
        #expect(show["owner"] == "TESTER_2" && show["requeues"] == 1 && show["stale"] == false && show["lease"] == .null)

        // Bad input: one clear error, nothing written.
        let before = f.journalLines().count
        for (args, what) in [(["task", "start", "T4", "--persona", "WORKER2", "--lease", "2s"], "lease"),
                             (["task", "start", "T4", "--persona", "WORKER2", "--lease", "soon"], "--lease"),
                             (["stale", "--older-than", "-5m"], "--older-than"),
                             (["next", "--persona", "NOBODY"], "NOBODY")] {
            let r = try f.cli(args)
            #expect(r.status == 2 || r.status == 4, "\(args): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains(what), "\(args): \(r.stderr)")
        }
        #expect(f.journalLines().count == before)
        try f.ok(["verify"])
    }
}
