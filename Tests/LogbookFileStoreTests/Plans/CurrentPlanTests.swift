import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Testing

/// Issue 9 §5: the default plan does not move under a working agent; `plan use`, `plan list`,
/// and a plan named twice.
@Suite struct CurrentPlanTests {
    func importSecond(_ f: CLIFixture, _ id: String = "EP-NEXT") throws {
        try f.ok(["plan", "import", f.scratchFile("\(id).json", planVariant(id: id))])
    }

    @Test func lockingASecondPlanKeepsThePointerOnTheLiveStatus() async throws {
        let f = try await CLIFixture.make("current-keep")
        try f.ok(["task", "start", "T1", "--persona", "WORKER"])
        let live = f.plan.journalRef.statusID
        try importSecond(f)
        let r = try f.ok(["plan", "lock", "EP-NEXT", "--persona", "SUPERVISOR"])
        #expect(r.stdout.contains("still points at \(live)") && r.stdout.contains("plan use EP-NEXT"), "\(r.stdout)")
        #expect(try f.ws.readState().currentStatusID == live)
        // An agent's next call without --plan lands on the plan it was working on.
        try f.ok(["task", "done", "T1", "--persona", "WORKER"])
        #expect(try await f.ws.engine.book(f.plan).state().task("T1")?.status == .done)

        // `plan use` switches explicitly and says so; only to a locked plan.
        let next = try await f.ws.engine.plan("EP-NEXT")
        var u = try f.ok(["plan", "use", "EP-NEXT"])
        #expect(u.stdout.contains("now points at \(next.journalRef.statusID)") && u.stdout.contains("pointed at \(live)"), "\(u.stdout)")
        #expect(try f.ws.readState().currentStatusID == next.journalRef.statusID)
        u = try f.ok(["plan", "use", "EP-NEXT"])
        #expect(u.stdout.contains("already points at"), "\(u.stdout)")
        try f.ok(["plan", "new", "EP-DRAFT"])
        let before = WorkspaceBytes(f.root)
        let d = try f.cli(["plan", "use", "EP-DRAFT"])
        expectOneLineError(d, code: 3, mentions: ["EP-DRAFT", "DRAFT", "lock"], "plan use of a DRAFT")
        #expect(WorkspaceBytes(f.root).changes(to: before).isEmpty)
    }

    @Test func makeCurrentMovesThePointerAtLock() async throws {
        let f = try await CLIFixture.make("current-make")
        try importSecond(f)
        let r = try f.ok(["plan", "lock", "EP-NEXT", "--persona", "SUPERVISOR", "--make-current"])
        let next = try await f.ws.engine.plan("EP-NEXT")
        #expect(try f.ws.readState().currentStatusID == next.journalRef.statusID)
        #expect(r.stdout.contains("state.txt points at \(next.journalRef.statusID)"), "\(r.stdout)")
    }

    /// With no live status (the current one archived), lock points at the new plan as before.
    @Test func withNoLiveStatusLockPointsAtTheNewPlan() async throws {
        let f = try await CLIFixture.make("current-none")
        try f.ok(["validate", "--persona", "SUPERVISOR"])
        try f.ok(["freeze", "--persona", "SUPERVISOR"])
        try f.ok(["archive", "--persona", "SUPERVISOR"])
        #expect(try f.ws.readState().currentStatusID == nil)
        try importSecond(f)
        try f.ok(["plan", "lock", "EP-NEXT", "--persona", "SUPERVISOR"])
        #expect(try await f.ws.readState().currentStatusID == f.ws.engine.plan("EP-NEXT").journalRef.statusID)
    }

    @Test func planListShowsEachLifecycleAndTheCurrentPlan() async throws {
        let f = try await CLIFixture.make("current-list")
        try importSecond(f, "EP-V")
        try f.ok(["plan", "lock", "EP-V", "--persona", "SUPERVISOR"])
        try f.ok(["validate", "--persona", "SUPERVISOR", "--plan", "EP-V"])
        try importSecond(f, "EP-F")
        try f.ok(["plan", "lock", "EP-F", "--persona", "SUPERVISOR"])
        try f.ok(["validate", "--persona", "SUPERVISOR", "--plan", "EP-F"])
        try f.ok(["freeze", "--persona", "SUPERVISOR", "--plan", "EP-F"])
        try importSecond(f, "EP-A")
        try f.ok(["plan", "lock", "EP-A", "--persona", "SUPERVISOR"])
        try f.ok(["validate", "--persona", "SUPERVISOR", "--plan", "EP-A"])
        try f.ok(["freeze", "--persona", "SUPERVISOR", "--plan", "EP-A"])
        try f.ok(["archive", "--persona", "SUPERVISOR", "--plan", "EP-A"])
        try f.ok(["plan", "new", "EP-D"])
        let expected = ["EP-TEST": "ACTIVE", "EP-V": "VALIDATING", "EP-F": "FROZEN", "EP-A": "ARCHIVED", "EP-D": "DRAFT"]

        let json = try JSONParser.parse(Array(try f.ok(["plan", "list", "--json"]).stdout.utf8))
        let rows = try #require(json.arrayValue)
        #expect(rows.count == expected.count)
        for row in rows {
            let id = row["plan_id"]?.stringValue ?? "?"
            #expect(row["lifecycle"]?.stringValue == expected[id], "\(id): \(row)")
            #expect(row["current"]?.boolValue == (id == "EP-TEST"), "\(id): \(row)")
        }
        let text = try f.ok(["plan", "list"]).stdout
        for (id, life) in expected {
            let line = try #require(text.split(separator: "\n").first { $0.contains(" \(id) ") }, "\(text)")
            #expect(line.contains(life), "\(line)")
            #expect(line.hasPrefix("*") == (id == "EP-TEST"), "\(line)")
        }
    }

    /// Every command taking both a positional PLAN and --plan refuses two different plans (exit 2)
    /// and accepts the same plan named both ways.
    @Test(arguments: [
        ["status"], ["log"], ["verify"], ["validate", "--persona", "SUPERVISOR"], ["freeze", "--persona", "SUPERVISOR"],
        ["report"], ["archive", "--persona", "SUPERVISOR"], ["checkpoint", "--persona", "SUPERVISOR"],
    ])
    func aPlanNamedTwiceDifferentlyIsContradictory(_ command: [String]) async throws {
        let f = try await CLIFixture.make("current-twice-\(command[0])")
        try importSecond(f)
        try f.ok(["plan", "lock", "EP-NEXT", "--persona", "SUPERVISOR"])
        let before = WorkspaceBytes(f.root)
        let r = try f.cli([command[0], "EP-TEST"] + command.dropFirst() + ["--plan", "EP-NEXT"])
        expectOneLineError(r, code: 2, mentions: ["EP-TEST", "EP-NEXT", "twice"], "\(command[0]) EP-TEST --plan EP-NEXT")
        #expect(WorkspaceBytes(f.root).changes(to: before).isEmpty)
        if command[0] == "status" || command[0] == "log" || command[0] == "verify" {
            let same = try f.cli([command[0], "EP-TEST", "--plan", String(f.plan.g)])
            #expect(same.status == 0, "\(same.stderr)")
        }
    }
}
