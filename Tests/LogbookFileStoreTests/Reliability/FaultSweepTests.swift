import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Every append, snapshot write and plan lock with ENOSPC, EIO on write, EIO on sync, a short
/// write, a crash and a power loss at every operation N until the step completes (issue 4).
@Suite(.serialized) struct FaultSweepTests {
    static let note = "sweep-note"

    /// A locked workspace whose T1 is IN_PROGRESS with a few events and a snapshot at seq 0.
    static func appendTemplate() async throws -> (root: String, events: Int, journal: [UInt8]) {
        let (ws, file) = try await TestSupport.lockedWorkspace("sweep-tmpl")
        let book = try await ws.engine.book(file)
        let key = try await ws.engine.signingKey(for: "WORKER")
        _ = try await book.submit(EventRequest(type: .started, task: "T1", persona: "WORKER"), signer: key)
        for p in [10, 20, 30] {
            _ = try await book.submit(EventRequest(type: .progress, task: "T1", persona: "WORKER", data: ["percent": JSONValue(p)]), signer: key)
        }
        return (ws.root, 5, TestSupport.bytes(ws.store.journalPath(file.journalRef)))
    }

    /// After any run: the journal verifies, its old lines are untouched, and the next writer continues.
    static func checkJournal(_ root: String, _ o: FaultSweep.Outcome, before: Int, oldJournal: [UInt8], mine: (Event) -> Bool) async throws {
        let ws = Workspace(root: root)
        let file = try await ws.engine.plan("EP-TEST")
        let events = try await FaultSweep.events(ws, file)
        let journal = TestSupport.bytes(ws.store.journalPath(file.journalRef))
        #expect(Array(journal.prefix(oldJournal.count)) == oldJournal, "acknowledged lines changed: \(o)")
        if o.succeeded {
            // No false acknowledgement: an acknowledged event survives a crash and a power loss.
            #expect(events.count == before + 1 && events.last.map(mine) == true, "acknowledged event missing: \(o)")
        } else {
            #expect(events.count == before || (events.count == before + 1 && events.last.map(mine) == true), "\(events.count) events: \(o)")
        }
        #expect(events.map(\.seq) == Array(0..<events.count))
        let report = try await ws.engine.verify(file)
        #expect(report.ok, "verify after \(o): \(report.failure?.description ?? "")")
        // The next writer (a new process) continues the chain.
        let book = try await ws.engine.book(file)
        let e = try await book.submit(EventRequest(type: .progress, task: "T1", persona: "WORKER", data: ["percent": 77]),
                                      signer: try await ws.engine.signingKey(for: "WORKER"))
        #expect(e.seq == events.count, "\(o)")
        let again = try await ws.engine.verify(file)
        #expect(again.ok, "verify after the next write, \(o): \(again.failure?.description ?? "")")
    }

    @Test func appendUnderEveryFault() async throws {
        let t = try await Self.appendTemplate()
        let stats = try await FaultSweep.sweep("append", template: t.root) { ws, ops in
            let file = try await ws.engine.plan("EP-TEST")
            let key = try await ws.engine.signingKey(for: "WORKER")
            ops.arm()
            // Snapshot every event, so the sweep also crosses the snapshot write that follows an append.
            let book = try await ws.engine.privateBook(file, snapshotInterval: 1)
            _ = try await book.submit(EventRequest(type: .progress, task: "T1", persona: "WORKER", data: ["percent": 50, "note": .string(Self.note)]), signer: key)
        } check: { root, o in
            if o.kind == .shortWrite { #expect(o.succeeded, "a short write must be completed by the caller: \(o)") }
            try await Self.checkJournal(root, o, before: t.events, oldJournal: t.journal) { $0.data["note"]?.stringValue == Self.note }
        }
        FaultSweep.report("fault sweep, append (+ snapshot every event)", "\(stats)")
        for (k, m) in stats.samples.sorted(by: { $0.key < $1.key }) { FaultSweep.report("fault sweep, append, error on \(k)", m) }
        #expect(stats.runs > 30)
    }

    @Test func aFailedSyncPoisonsTheHandleAndTheSameBookRereads() async throws {
        // The PostgreSQL lesson, per N: a failed fdatasync is never retried into a success; the
        // same book's next write reopens the file, re-reads it and continues a valid chain.
        let t = try await Self.appendTemplate()
        let stats = try await FaultSweep.sweep("sync-then-retry", template: t.root, kinds: [.eioSync]) { ws, ops in
            let file = try await ws.engine.plan("EP-TEST")
            let key = try await ws.engine.signingKey(for: "WORKER")
            let book = try await ws.engine.privateBook(file, snapshotInterval: 1000)
            ops.arm()
            var failed = false
            do {
                _ = try await book.submit(EventRequest(type: .progress, task: "T1", persona: "WORKER", data: ["percent": 50, "note": .string(Self.note)]), signer: key)
            } catch {
                failed = true
                #expect((error as? LogbookError)?.description.contains("not acknowledged") == true, "\(error)")
            }
            #expect(failed == ops.fired)
            // The same process, the same book: the next event lands after whatever is in the file.
            let e = try await book.submit(EventRequest(type: .progress, task: "T1", persona: "WORKER", data: ["percent": 60]), signer: key)
            let events = try await FaultSweep.events(Workspace(root: ws.root), file)
            #expect(e.seq == events.count - 1 && events.last?.hash == e.hash)
            if failed { throw LogbookError(.io, "exec_status_1.journal: fdatasync: I/O error (the injected fault, rethrown by the test)") }
        } check: { root, o in
            let ws = Workspace(root: root)
            let report = try await ws.engine.verify(try await ws.engine.plan("EP-TEST"))
            #expect(report.ok, "\(o): \(report.failure?.description ?? "")")
        }
        FaultSweep.report("fault sweep, failed fdatasync then the same book writes again", "\(stats)")
    }

    @Test func snapshotWriteUnderEveryFault() async throws {
        let t = try await Self.appendTemplate()
        let oldSnapshot = TestSupport.bytes(Workspace(root: t.root).store.snapshotPath(JournalRef(planID: "EP-TEST", g: 1)))
        #expect(!oldSnapshot.isEmpty)
        let stats = try await FaultSweep.sweep("snapshot", template: t.root) { ws, ops in
            let book = try await ws.engine.book(try await ws.engine.plan("EP-TEST"))
            ops.arm()
            try await book.writeSnapshot()
        } check: { root, o in
            let ws = Workspace(root: root)
            let file = try await ws.engine.plan("EP-TEST")
            let path = ws.store.snapshotPath(file.journalRef)
            let now = TestSupport.bytes(path)
            let fresh = try await ws.engine.book(file).snapshotBytes().bytes
            #expect(now == oldSnapshot || now == fresh, "snapshot neither old nor new after \(o)")
            if o.succeeded, o.kind != .powerLoss { #expect(now == fresh, "\(o)") }
            let report = try await ws.engine.verify(file)
            #expect(report.ok, "\(o): \(report.failure?.description ?? "")")
            // Whatever is on disk, a reader gets the exact state.
            let state = try await ws.engine.book(file).state()
            #expect(state.seq == t.events - 1)
        }
        FaultSweep.report("fault sweep, snapshot write", "\(stats)")
        for (k, m) in stats.samples.sorted(by: { $0.key < $1.key }) { FaultSweep.report("fault sweep, snapshot, error on \(k)", m) }
    }

    @Test func planLockUnderEveryFault() async throws {
        let ws0 = try Workspace.create(at: TestSupport.tempDirectory("sweep-lock"))
        try await ws0.engine.addPersona("SUPERVISOR", role: .supervisor)
        try await ws0.engine.addPersona("WORKER", role: .worker, archetype: "IMPLEMENTER")
        try await ws0.engine.addPersona("WORKER2", role: .worker, archetype: "IMPLEMENTER")
        try await ws0.engine.addPersona("TESTER_BOT", role: .worker, archetype: "TESTER")
        _ = try await ws0.engine.importPlan(bytes: CanonicalJSON.bytes(TestSupport.planJSON()), name: "plan.json")
        var reruns = 0
        let stats = try await FaultSweep.sweep("lock", template: ws0.root) { ws, ops in
            let key = try await ws.engine.signingKey(for: "SUPERVISOR")
            ops.arm()
            _ = try await ws.engine.lockPlan("EP-TEST", persona: "SUPERVISOR", signer: key)
        } check: { root, o in
            let ws = Workspace(root: root)
            var file = try await ws.engine.plan("EP-TEST")  // the plan file is readable: old or new, never torn
            if !file.document.isLocked || !o.succeeded {
                // An interrupted lock is completed by running it again.
                do {
                    (file, _) = try await ws.engine.lockPlan("EP-TEST", persona: "SUPERVISOR", signer: try await ws.engine.signingKey(for: "SUPERVISOR"))
                    reruns += 1
                } catch let e as LogbookError where e.code == .locked {
                    file = try await ws.engine.plan("EP-TEST")
                }
            }
            #expect(file.document.isLocked, "\(o)")
            #expect(try ws.readState().currentPlanG == file.g, "state.txt does not point at the locked plan after \(o)")
            let report = try await ws.engine.verify(file)
            #expect(report.ok && report.events == 1, "\(o): \(report.failure?.description ?? "")")
            let book = try await ws.engine.book(file)
            let e = try await book.submit(EventRequest(type: .started, task: "T1", persona: "WORKER"), signer: try await ws.engine.signingKey(for: "WORKER"))
            #expect(e.seq == 1)
        }
        for (k, m) in stats.samples.sorted(by: { $0.key < $1.key }) { FaultSweep.report("fault sweep, lock, error on \(k)", m) }
        FaultSweep.report("fault sweep, plan lock", "\(stats); \(reruns) interrupted locks completed by running lock again")
    }
}
