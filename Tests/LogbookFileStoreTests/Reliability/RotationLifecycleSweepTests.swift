import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Testing

/// The fault sweep (ENOSPC, EIO on write, EIO on sync, short write, crash, power loss at every
/// operation N) over an append that rotates the journal into a gzip segment, and over the
/// lifecycle steps validate, freeze and archive. After each run and recovery: the journal
/// verifies, acknowledged events are all there, and running the step again finishes it.
@Suite(.serialized) struct RotationLifecycleSweepTests {
    static let rotateBytes: Int64 = 4096

    @Test func anAppendThatRotatesUnderEveryFault() async throws {
        // A live journal just over 4 KiB (written without rotation), so the next append rotates.
        let (ws0, file) = try await TestSupport.lockedWorkspace("sweep-rot")
        let book0 = try await ws0.engine.book(file)
        let key0 = try await ws0.engine.signingKey(for: "WORKER")
        _ = try await book0.submit(EventRequest(type: .started, task: "T1", persona: "WORKER"), signer: key0)
        while TestSupport.bytes(ws0.store.journalPath(file.journalRef)).count < Int(Self.rotateBytes) {
            _ = try await book0.submit(EventRequest(type: .progress, task: "T1", persona: "WORKER", data: ["percent": 5, "note": "filling the live file"]), signer: key0)
        }
        let before = try await FaultSweep.events(ws0, file)
        var rotated = 0
        let stats = try await FaultSweep.sweep("rotation", template: ws0.root) { ws, ops in
            let rws = Workspace(root: ws.root, ops: ops, rotateBytes: Self.rotateBytes)
            let f = try await rws.engine.plan("EP-TEST")
            let key = try await rws.engine.signingKey(for: "WORKER")
            ops.arm()
            let book = try await rws.engine.book(f)
            _ = try await book.submit(EventRequest(type: .progress, task: "T1", persona: "WORKER", data: ["percent": 50, "note": "sweep-note"]), signer: key)
        } check: { root, o in
            let ws = Workspace(root: root, rotateBytes: Self.rotateBytes)
            let f = try await ws.engine.plan("EP-TEST")
            let events = try await FaultSweep.events(ws, f)
            #expect(events.map(\.seq) == Array(0..<events.count), "\(o)")
            #expect(zip(before, events).allSatisfy { $0.hash == $1.hash } && events.count >= before.count, "acknowledged events changed: \(o)")
            if o.succeeded { #expect(events.count == before.count + 1 && events.last?.data["note"]?.stringValue == "sweep-note", "acknowledged event missing: \(o)") }
            else { #expect(events.count <= before.count + 1, "\(o)") }
            if ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).contains(where: { $0.contains(".gz") || $0.contains("segment") }) { rotated += 1 }
            let report = try await ws.engine.verify(f)
            #expect(report.ok, "\(o): \(report.failure?.description ?? "")")
            let e = try await ws.engine.book(f).submit(EventRequest(type: .progress, task: "T1", persona: "WORKER", data: ["percent": 77]), signer: try await ws.engine.signingKey(for: "WORKER"))
            #expect(e.seq == events.count, "\(o)")
            let again = try await ws.engine.verify(f)
            #expect(again.ok, "after the next write, \(o): \(again.failure?.description ?? "")")
        }
        FaultSweep.report("fault sweep, append that rotates", "\(stats); \(rotated) runs ended with a segment on disk")
        for (k, m) in stats.samples.sorted(by: { $0.key < $1.key }) { FaultSweep.report("fault sweep, rotation, error on \(k)", m) }
    }

    typealias Step = LifecycleStep

    static func prepared(_ step: Step) async throws -> (Workspace, PlanFile) {
        try await step.prepared("sweep-\(step)")
    }

    static func run(_ step: Step, _ ws: Workspace) async throws {
        try await step.run(ws, try await ws.engine.plan("EP-TEST"))
    }

    @Test(arguments: Step.allCases)
    func aLifecycleStepUnderEveryFault(_ step: Step) async throws {
        let (ws0, _) = try await Self.prepared(step)
        let g0 = try ws0.readState().g
        // A plain crash at every operation of these steps is LifecycleCrashTests' sweep; here the
        // errno faults, short writes and power loss (soak runs add the plain crash too).
        let kinds: [SweepFileOps.Kind] = Reliability.soak ? SweepFileOps.Kind.allCases : [.enospc, .eioWrite, .eioSync, .shortWrite, .powerLoss]
        let stats = try await FaultSweep.sweep(step.rawValue, template: ws0.root, kinds: kinds) { ws, ops in
            _ = try await ws.engine.plan("EP-TEST")
            ops.arm()
            try await Self.run(step, ws)
        } check: { root, o in
            let ws = Workspace(root: root)
            let file = try await ws.engine.plan("EP-TEST")
            let mid = try await ws.engine.verify(file)
            #expect(mid.ok, "\(step) \(o): \(mid.failure?.description ?? "")")
            // Running the step again finishes it.
            try await Self.run(step, ws)
            let state = try await ws.engine.book(file).state()
            switch step {
            case .validate: #expect(state.lifecycle == .validating && state.verdict == "PASS", "\(o)")
            case .freeze:
                #expect(state.lifecycle == .frozen, "\(o)")
                #expect(try await ws.engine.checkReport(file).ok, "\(o)")
            case .archive:
                #expect(state.lifecycle == .archived, "\(o)")
                #expect(try ws.readState().g == g0 + 1, "state.txt moved more or less than once: \(o)")
                #expect(try await ws.engine.checkReport(file).ok, "\(o)")
            }
            var counts: [EventType: Int] = [:]
            try await ws.store.forEachLine(file.journalRef) { counts[try Event(line: $0.bytes).type, default: 0] += 1 }
            for t in [EventType.validationStarted, .frozen, .archived] { #expect((counts[t] ?? 0) <= 1, "\(t) twice: \(o)") }
            let report = try await ws.engine.verify(file)
            #expect(report.ok, "\(step) after the rerun, \(o): \(report.failure?.description ?? "")")
        }
        FaultSweep.report("fault sweep, \(step)", "\(stats); every run finished by running \(step) again")
    }
}
