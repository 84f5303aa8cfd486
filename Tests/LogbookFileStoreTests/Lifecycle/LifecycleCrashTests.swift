import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A crash at every disk operation of validate, freeze and archive: running the step again
/// with real system calls finishes it, and the workspace verifies (SQLite test-VFS style).
@Suite struct LifecycleCrashTests {
    typealias Step = LifecycleStep

    func prepared(_ step: Step, _ n: Int) async throws -> (Workspace, PlanFile) {
        try await step.prepared("crash-\(step)-\(n)")
    }

    func run(_ step: Step, _ ws: Workspace, _ file: PlanFile) async throws {
        try await step.run(ws, file)
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
            let mid = try await after.engine.verify(file)
            #expect(mid.ok, "\(step), crash at op \(n): \(mid.failure?.description ?? "")")
            // Running the step again finishes it.
            try await run(step, after, file)
            let state = try await after.engine.book(file).state()
            switch step {
            case .validate:
                #expect(state.lifecycle == .validating && state.verdict == "PASS", "\(step) op \(n)")
            case .freeze:
                #expect(state.lifecycle == .frozen, "\(step) op \(n)")
                let check = try await after.engine.checkReport(file)
                #expect(check.ok, "\(step) op \(n): \(check.message)")
                #expect(try await after.engine.latestCheckpoint(file)?.size == (state.frozenSeq ?? -1) + 1)
            case .archive:
                #expect(state.lifecycle == .archived, "\(step) op \(n)")
                #expect(try after.readState().g == g0 + 1, "\(step) op \(n): state.txt moved exactly once")
                #expect(try after.readState().currentStatusID == nil)
                #expect(TestSupport.bytes(after.store.journalPath(file.journalRef)).isEmpty)
                let check = try await after.engine.checkReport(file)
                #expect(check.ok, "\(step) op \(n): \(check.message)")
            }
            // Exactly one of each lifecycle event.
            var counts: [EventType: Int] = [:]
            try await after.store.forEachLine(file.journalRef) { counts[try Event(line: $0.bytes).type, default: 0] += 1 }
            for t in [EventType.validationStarted, .frozen, .archived] { #expect((counts[t] ?? 0) <= 1, "\(step) op \(n): \(t) twice") }
            let report = try await after.engine.verify(file)
            #expect(report.ok, "\(step), crash at op \(n), after the rerun: \(report.failure?.description ?? "")")
            if !ops.crashed { break }
            n += 1
            try #require(n < 120, "\(step) never completed")
        }
        #expect(n > 3, "\(step): the sweep covered \(n) operations")
        print("crash sweep: \(step) completed after \(n - 1) crash points, each repaired by a rerun")
    }
}
