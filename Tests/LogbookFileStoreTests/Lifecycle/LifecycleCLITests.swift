import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// validate → freeze → report → archive through the CLI, with each refusal.
@Suite struct LifecycleCLITests {
    /// Runs `logbook` in `ws`.
    func lb(_ ws: Workspace, _ args: String...) throws -> TestSupport.Run {
        try TestSupport.logbook(args + ["--workspace", ws.root])
    }

    func journalBytes(_ ws: Workspace, _ file: PlanFile) -> [UInt8] {
        TestSupport.bytes(ws.store.journalPath(file.journalRef))
    }

    /// EP-TEST with T1–T3 done by WORKER, T4 blocked then unblocked and done, T5 tested and waived.
    func finishedWorkspace(_ name: String) async throws -> (Workspace, PlanFile) {
        let (ws, file) = try await TestSupport.lockedWorkspace(name)
        for t in ["T1", "T2", "T3"] {
            #expect(try lb(ws, "task", "start", t, "--persona", "WORKER").status == 0)
            #expect(try lb(ws, "task", "done", t, "--persona", "WORKER").status == 0)
        }
        #expect(try lb(ws, "task", "start", "T4", "--persona", "WORKER2").status == 0)
        #expect(try lb(ws, "task", "block", "T4", "--reason", "waiting for a fixture", "--persona", "WORKER2").status == 0)
        #expect(try lb(ws, "task", "unblock", "T4", "--reason", "fixture arrived", "--persona", "WORKER2").status == 0)
        #expect(try lb(ws, "task", "achieve", "T4", "--summary", "fixture loader works", "--persona", "WORKER2").status == 0)
        #expect(try lb(ws, "task", "done", "T4", "--persona", "WORKER2").status == 0)
        let w = try lb(ws, "task", "waive", "T5", "--reason", "covered by T4", "--persona", "SUPERVISOR")
        #expect(w.status == 0, "\(w.stderr)")
        return (ws, file)
    }

    @Test func theWholeLifecycleWithEveryRefusal() async throws {
        let (ws, file) = try await finishedWorkspace("life")

        // validate: a worker is refused and nothing is written.
        var before = journalBytes(ws, file)
        var r = try lb(ws, "validate", "--persona", "WORKER")
        #expect(r.status == 3)
        #expect(r.stderr.contains("supervisor") && r.stderr.contains("EP-TEST"))
        #expect(journalBytes(ws, file) == before)
        // freeze before validation: refused, nothing written.
        r = try lb(ws, "freeze", "--persona", "SUPERVISOR")
        #expect(r.status == 3, "\(r.stderr)")
        #expect(journalBytes(ws, file) == before)
        // A bad verdict: bad input.
        r = try lb(ws, "validate", "--persona", "SUPERVISOR", "--verdict", "MAYBE")
        #expect(r.status == 2)
        #expect(journalBytes(ws, file) == before)

        r = try lb(ws, "validate", "--persona", "SUPERVISOR", "--note", "all green")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("verdict PASS"))
        for c in ["tasks_complete", "latest_tests_pass", "no_open_blockers", "retries_within_limits", "journal_verifies"] {
            #expect(r.stdout.contains(c))
        }
        // archive before freeze: refused.
        before = journalBytes(ws, file)
        r = try lb(ws, "archive", "--persona", "SUPERVISOR")
        #expect(r.status == 3 && r.stderr.contains("freeze"), "\(r.stderr)")
        #expect(journalBytes(ws, file) == before)
        // freeze: a worker is refused.
        r = try lb(ws, "freeze", "--persona", "WORKER")
        #expect(r.status == 3)
        #expect(journalBytes(ws, file) == before)

        r = try lb(ws, "freeze", "--persona", "SUPERVISOR")
        #expect(r.status == 0, "\(r.stderr)")
        let state = try await ws.engine.book(file).state()
        #expect(state.lifecycle == .frozen)
        let frozenSeq = try #require(state.frozenSeq)

        // Every write is refused now, naming the plan and the freeze seq; nothing is written.
        before = journalBytes(ws, file)
        for args in [["task", "progress", "T1", "--percent", "5", "--persona", "WORKER"],
                     ["task", "reopen", "T1", "--reason", "again", "--persona", "SUPERVISOR"],
                     ["task", "achieve", "T1", "--summary", "late", "--persona", "WORKER"],
                     ["validate", "--persona", "SUPERVISOR"]] {
            let x = try TestSupport.logbook(args + ["--workspace", ws.root])
            #expect(x.status == 3, "\(args): \(x.stderr)")
            #expect(x.stderr.contains("EP-TEST") && x.stderr.contains("frozen at seq \(frozenSeq)"), "\(args): \(x.stderr)")
        }
        #expect(journalBytes(ws, file) == before)

        // The report: both files, every section, its own hash; --check proves it.
        let (jsonPath, mdPath) = ws.reportPaths(file)
        let report = try JSONParser.parse(TestSupport.bytes(jsonPath))
        for key in ["plan_id", "plan_digest", "verdict", "criteria", "tasks", "blockers_history", "achievements",
                    "event_counts_by_type", "event_counts_by_persona", "unsigned_events", "final_head_hash", "checkpoint",
                    "verify", "report_hash"] {
            #expect(report[key] != nil, "report lacks \(key)")
        }
        #expect(report["verdict"]?.stringValue == "PASS")
        #expect(report["plan_digest"]?.stringValue == file.document.digest.description)
        #expect(report["blockers_history"]?.arrayValue?.count == 1)
        #expect(report["achievements"]?.arrayValue?.count == 1)
        #expect(report["tasks"]?.arrayValue?.count == 5)
        #expect(report["checkpoint"]?.stringValue?.contains("\(frozenSeq + 1)\n") == true, "the checkpoint at freeze covers the frozen event")
        #expect(ValidationReport.hashIsValid(report))
        let md = String(decoding: TestSupport.bytes(mdPath), as: UTF8.self)
        #expect(md.contains("# Validation Report") && md.contains("| Verdict | **PASS** |") && md.contains("fixture arrived"))
        r = try lb(ws, "report", "--check")
        #expect(r.status == 0 && r.stdout.contains("matches the journal"), "\(r.stderr)")
        r = try lb(ws, "report")
        #expect(r.stdout == md)

        // An edited report fails the check (exit 6) and names why; restored, it passes.
        let original = TestSupport.bytes(jsonPath)
        let edited = String(decoding: original, as: UTF8.self).replacingOccurrences(of: "\"verdict\": \"PASS\"", with: "\"verdict\": \"FAIL\"")
        try Data(edited.utf8).write(to: URL(fileURLWithPath: jsonPath))
        r = try lb(ws, "report", "--check")
        #expect(r.status == 6 && r.stderr.contains("report_hash"), "\(r.stderr)")
        try Data(original).write(to: URL(fileURLWithPath: jsonPath))

        // archive: a worker is refused; the supervisor archives.
        r = try lb(ws, "archive", "--persona", "WORKER")
        #expect(r.status == 3)
        let st0 = try ws.readState()
        r = try lb(ws, "archive", "--persona", "SUPERVISOR")
        #expect(r.status == 0, "\(r.stderr)")
        let st1 = try ws.readState()
        #expect(st1.currentStatusID == nil)
        #expect(st1.g == st0.g + 1)
        #expect(st1.version == st0.version + 1)
        // The whole journal is in gzip segments; the status files are read-only.
        let m = try ws.store.segments(file.journalRef)
        #expect(!m.segments.isEmpty && !m.rotating)
        #expect(journalBytes(ws, file).isEmpty)
        for path in [ws.store.journalPath(file.journalRef), ws.store.manifestPath(file.journalRef), ws.store.snapshotPath(file.journalRef),
                     jsonPath, mdPath, ws.checkpointPath(file)] + m.segments.map({ ws.root + "/" + $0.file }) {
            var s = stat()
            #expect(stat(path, &s) == 0 && s.st_mode & 0o222 == 0, "\(path) is still writable")
        }
        // Everything still reads and verifies; the report still matches; status says ARCHIVED.
        r = try lb(ws, "verify", "--plan", "EP-TEST")
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        r = try lb(ws, "report", "--check", "--plan", "EP-TEST")
        #expect(r.status == 0, "\(r.stderr)")
        r = try lb(ws, "status", "--plan", "EP-TEST")
        #expect(r.stdout.contains("ARCHIVED"))
        r = try lb(ws, "log", "--plan", "EP-TEST")
        #expect(r.stdout.contains("archived") && r.stdout.contains("frozen"))
        // Archived accepts nothing; a second archive changes nothing.
        r = try lb(ws, "task", "progress", "T1", "--percent", "1", "--persona", "WORKER", "--plan", "EP-TEST")
        #expect(r.status == 3 && r.stderr.contains("ARCHIVED"))
        r = try lb(ws, "archive", "--persona", "SUPERVISOR", "--plan", "EP-TEST")
        #expect(r.status == 0 && r.stdout.contains("unchanged"), "\(r.stdout)\(r.stderr)")
        #expect(try ws.readState() == st1)
        // The snapshot mirrors the lifecycle and verdict.
        let snap = try JSONParser.parse(TestSupport.bytes(ws.store.snapshotPath(file.journalRef)))
        #expect(snap["payload"]?["overall_status_summary"]?["lifecycle_status"]?.stringValue == "ARCHIVED")
        #expect(snap["payload"]?["overall_status_summary"]?["validation_verdict"]?.stringValue == "PASS")
    }

    @Test func passAgainstFailingCriteriaNeedsAnOverrideReason() async throws {
        let (ws, file) = try await TestSupport.lockedWorkspace("life-override")
        #expect(try lb(ws, "task", "start", "T1", "--persona", "WORKER").status == 0)
        #expect(try lb(ws, "task", "test", "T1", "--suite", "unit", "--passed", "3", "--failed", "1", "--persona", "WORKER").status == 0)
        let before = journalBytes(ws, file)
        var r = try lb(ws, "validate", "--persona", "SUPERVISOR", "--verdict", "PASS")
        #expect(r.status == 3)
        #expect(r.stderr.contains("--override-reason") && r.stderr.contains("tasks_complete") && r.stderr.contains("latest_tests_pass"), "\(r.stderr)")
        #expect(journalBytes(ws, file) == before, "a refused PASS wrote nothing")
        // The default verdict is FAIL, with the criteria stated.
        r = try lb(ws, "validate", "--persona", "SUPERVISOR")
        #expect(r.status == 0 && r.stdout.contains("verdict FAIL"), "\(r.stderr)")
        // PASS with a reason is recorded, the override logged.
        r = try lb(ws, "validate", "--persona", "SUPERVISOR", "--verdict", "pass", "--override-reason", "accepted by the owner")
        #expect(r.status == 0, "\(r.stderr)")
        let log = try lb(ws, "log", "--json").stdout
        #expect(log.contains("\"lock_override\"") && log.contains("accepted by the owner"))
        #expect(try lb(ws, "freeze", "--persona", "SUPERVISOR").status == 0)
        let report = try JSONParser.parse(TestSupport.bytes(ws.reportPaths(file).json))
        #expect(report["verdict"]?.stringValue == "PASS")
        #expect(report["override_reason"]?.stringValue == "accepted by the owner")
        let failing = (report["criteria"]?.arrayValue ?? []).filter { $0["pass"]?.boolValue == false }.compactMap { $0["name"]?.stringValue }
        #expect(Set(failing) == ["tasks_complete", "latest_tests_pass"])

        // Nothing is ready once frozen (an agent asking what to do next gets nothing, and why).
        let ready = try lb(ws, "task", "list", "--ready", "--json")
        #expect(ready.status == 0 && ready.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]", "\(ready.stdout)")
        #expect(ready.stderr.contains("FROZEN"))

        // `watch` ends on a frozen status even though T1–T5 never finished.
        let watch = Process()
        watch.executableURL = URL(fileURLWithPath: TestSupport.binary)
        watch.arguments = ["watch", "--interval", "50", "--workspace", ws.root]
        let out = Pipe()
        watch.standardOutput = out
        try watch.run()
        let deadline = Date().addingTimeInterval(20)
        while watch.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if watch.isRunning { watch.terminate() }
        watch.waitUntilExit()
        #expect(watch.terminationReason == .exit && watch.terminationStatus == 0, "watch did not end on a frozen status")
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(text.contains("FROZEN") && text.contains("no more events"), "\(text)")
    }

    /// A report re-signed (its report_hash recomputed) over a different head: `report --check`
    /// and `verify` both fail; a Markdown file that differs from the JSON fails the check.
    @Test func aReportThatDisagreesWithItsJournalIsCaught() async throws {
        let (ws, file) = try await TestSupport.lockedWorkspace("life-report")
        #expect(try lb(ws, "validate", "--persona", "SUPERVISOR").status == 0)
        #expect(try lb(ws, "freeze", "--persona", "SUPERVISOR").status == 0)
        let (jsonPath, mdPath) = ws.reportPaths(file)
        let original = TestSupport.bytes(jsonPath)
        var o = try #require(try JSONParser.parse(original).objectValue)
        o["final_head_hash"] = .string(Digest256.of(Array("another head".utf8)).description)
        o["report_hash"] = nil
        o["report_hash"] = .string(Digest256.canonical(.object(o)).description)
        try Data(PrettyJSON.bytes(.object(o))).write(to: URL(fileURLWithPath: jsonPath))
        var r = try lb(ws, "report", "--check")
        #expect(r.status == 6 && r.stderr.contains("final_head_hash"), "\(r.stderr)")
        r = try lb(ws, "verify", "--json")
        #expect(r.status == 6)
        #expect(r.stdout.contains("report_mismatch"), "\(r.stdout)")
        try Data(original).write(to: URL(fileURLWithPath: jsonPath))
        #expect(try lb(ws, "verify").status == 0)
        try Data("# Validation Report — something else\n".utf8).write(to: URL(fileURLWithPath: mdPath))
        r = try lb(ws, "report", "--check")
        #expect(r.status == 6 && r.stderr.contains(".md"), "\(r.stderr)")
    }

    @Test func archiveMovesTheStateToTheNextActivePlan() async throws {
        let (ws, _) = try await TestSupport.lockedWorkspace("life-next")
        // A second plan, locked first in time? Lock EP-NEXT, then point the state back at EP-TEST by locking order.
        _ = try await ws.engine.importPlan(bytes: CanonicalJSON.bytes(TestSupport.planJSON(id: "EP-NEXT")), name: "next.json")
        _ = try await ws.engine.lockPlan("EP-NEXT", persona: "SUPERVISOR", signer: try await ws.engine.signingKey(for: "SUPERVISOR"), makeCurrent: true)
        // state.txt now points at EP-NEXT (made current explicitly); archive EP-NEXT after finishing it with a FAIL verdict and
        // the state must move back to EP-TEST (still ACTIVE).
        #expect(try ws.readState().currentStatusID != nil)
        var r = try lb(ws, "validate", "--persona", "SUPERVISOR", "--plan", "EP-NEXT")
        #expect(r.status == 0 && r.stdout.contains("FAIL"), "\(r.stderr)")
        #expect(try lb(ws, "freeze", "--persona", "SUPERVISOR", "--plan", "EP-NEXT").status == 0)
        r = try lb(ws, "archive", "--persona", "SUPERVISOR", "--plan", "EP-NEXT")
        #expect(r.status == 0, "\(r.stderr)")
        let st = try ws.readState()
        let test = try await ws.engine.plan("EP-TEST")
        #expect(st.currentStatusID == test.journalRef.statusID, "state.txt points at the plan still active")
        #expect(r.stdout.contains(test.journalRef.statusID))
        // --next must name a locked plan other than the one archived.
        r = try lb(ws, "archive", "--persona", "SUPERVISOR", "--plan", "EP-TEST", "--next", "EP-TEST")
        #expect(r.status != 0)
    }

    /// Several archive processes at once on one plan: one `archived` event, state.txt moved once.
    @Test func concurrentArchivesMoveTheStateOnce() async throws {
        let (ws, file) = try await TestSupport.lockedWorkspace("life-race")
        #expect(try lb(ws, "validate", "--persona", "SUPERVISOR").status == 0)
        #expect(try lb(ws, "freeze", "--persona", "SUPERVISOR").status == 0)
        let st0 = try ws.readState()
        let procs = try (0..<4).map { _ -> Process in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: TestSupport.binary)
            p.arguments = ["archive", "--persona", "SUPERVISOR", "--workspace", ws.root]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            return p
        }
        for p in procs { p.waitUntilExit() }
        // A process may lose a race with a clear conflict; a rerun always finishes.
        if procs.contains(where: { $0.terminationStatus != 0 }) {
            #expect(procs.allSatisfy { [0, 3].contains($0.terminationStatus) })
            #expect(try lb(ws, "archive", "--persona", "SUPERVISOR", "--plan", "EP-TEST").status == 0)
        }
        let st1 = try ws.readState()
        #expect(st1.g == st0.g + 1)
        #expect(st1.currentStatusID == nil)
        var archived = 0
        try await ws.store.forEachLine(file.journalRef) { if try Event(line: $0.bytes).type == .archived { archived += 1 } }
        #expect(archived == 1)
        #expect(try await ws.engine.verify(file).ok)
    }
}
