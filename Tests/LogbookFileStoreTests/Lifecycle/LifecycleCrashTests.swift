import Foundation
import LogbookCore
import LogbookFileStore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A crash at every disk operation of validate, freeze and archive: running the step again
/// with real system calls finishes it, and the workspace verifies (SQLite test-VFS style).
@Suite struct LifecycleCrashTests {
    enum Step: String, CaseIterable, CustomTestStringConvertible {
        case validate, freeze, archive
        var testDescription: String { rawValue }
    }

    /// A workspace with every task finished (T5 waived), brought up to just before `step`.
    func prepared(_ step: Step, _ n: Int) async throws -> (Workspace, PlanFile) {
        let (ws, file) = try await TestSupport.lockedWorkspace("crash-\(step)-\(n)")
        let book = try await ws.book(file)
        func submit(_ type: EventType, _ task: String?, _ persona: String, _ data: JSONObject = [:]) async throws {
            _ = try await book.submit(EventRequest(type: type, task: task, persona: persona, data: data), signer: try ws.signingKey(for: persona))
        }
        for t in ["T1", "T2", "T3"] {
            try await submit(.started, t, "WORKER")
            try await submit(.done, t, "WORKER")
        }
        try await submit(.started, "T4", "WORKER2")
        try await submit(.done, "T4", "WORKER2")
        try await submit(.waived, "T5", "SUPERVISOR", ["reason": "not needed"])
        let sup = try ws.signingKey(for: "SUPERVISOR")
        if step != .validate { _ = try await ws.validate(file, persona: "SUPERVISOR", signer: sup) }
        if step == .archive { _ = try await ws.freeze(file, persona: "SUPERVISOR", signer: sup) }
        return (ws, file)
    }

    func run(_ step: Step, _ ws: Workspace, _ file: PlanFile) async throws {
        let sup = try ws.signingKey(for: "SUPERVISOR")
        switch step {
        case .validate: _ = try await ws.validate(file, persona: "SUPERVISOR", signer: sup)
        case .freeze: _ = try await ws.freeze(file, persona: "SUPERVISOR", signer: sup)
        case .archive: _ = try await ws.archive(file, persona: "SUPERVISOR", signer: sup)
        }
    }

    @Test(arguments: Step.allCases)
    func aCrashAtEveryOperationIsFinishedByRunningTheStepAgain(_ step: Step) async throws {
        var n = 1
        while true {
            let (ws, file) = try await prepared(step, n)
            let g0 = try ws.readState().g
            let ops = CrashAfterOps(crashAt: n)
            let crashing = Workspace(root: ws.root, ops: ops)
            do { try await run(step, crashing, file) } catch let e as LogbookError {
                #expect(e.message.contains("simulated crash"), "\(step) op \(n): \(e)")
            }
            // After the crash: the journal verifies as it is (recovery first cuts any torn tail).
            let after = Workspace(root: ws.root)
            _ = try after.store.recover(file.journalRef)
            let mid = try await after.verify(file)
            #expect(mid.ok, "\(step), crash at op \(n): \(mid.failure?.description ?? "")")
            // Running the step again finishes it.
            try await run(step, after, file)
            let state = try await after.book(file).state()
            switch step {
            case .validate:
                #expect(state.lifecycle == .validating && state.verdict == "PASS", "\(step) op \(n)")
            case .freeze:
                #expect(state.lifecycle == .frozen, "\(step) op \(n)")
                let check = try await after.checkReport(file)
                #expect(check.ok, "\(step) op \(n): \(check.message)")
                #expect(try after.latestCheckpoint(file)?.size == (state.frozenSeq ?? -1) + 1)
            case .archive:
                #expect(state.lifecycle == .archived, "\(step) op \(n)")
                #expect(try after.readState().g == g0 + 1, "\(step) op \(n): state.txt moved exactly once")
                #expect(try after.readState().currentStatusID == nil)
                #expect(TestSupport.bytes(after.store.journalPath(file.journalRef)).isEmpty)
                let check = try await after.checkReport(file)
                #expect(check.ok, "\(step) op \(n): \(check.message)")
            }
            // Exactly one of each lifecycle event.
            var counts: [EventType: Int] = [:]
            try await after.store.forEachLine(file.journalRef) { counts[try Event(line: $0.bytes).type, default: 0] += 1 }
            for t in [EventType.validationStarted, .frozen, .archived] { #expect((counts[t] ?? 0) <= 1, "\(step) op \(n): \(t) twice") }
            let report = try await after.verify(file)
            #expect(report.ok, "\(step), crash at op \(n), after the rerun: \(report.failure?.description ?? "")")
            if !ops.crashed { break }
            n += 1
            try #require(n < 120, "\(step) never completed")
        }
        #expect(n > 3, "\(step): the sweep covered \(n) operations")
        print("crash sweep: \(step) completed after \(n - 1) crash points, each repaired by a rerun")
    }
}
