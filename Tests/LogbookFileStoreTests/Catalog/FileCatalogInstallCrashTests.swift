import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import LogbookStoreConformance
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `FileCatalog.install` with ENOSPC, EIO, a short write, a crash and a power loss at every
/// system call N: whatever the fault left, running the same install again completes it, and
/// what a crash leaves is what the order of docs/FORMAT.md §13 promises (a lock never leaves a
/// locked plan without its journal; a migrate never leaves a journal without its locked plan).
@Suite(.serialized) struct FileCatalogInstallCrashTests {
    /// A workspace with the fixture's personas and, for a lock, the DRAFT at g 1.
    static func template(_ f: CatalogFixture, draft: PlanDocument?) async throws -> String {
        let ws = try Workspace.create(at: TestSupport.tempDirectory("inst-tmpl"))
        let c = ws.storage.catalog
        try await c.storePersonas(f.registry)
        try await c.updateState { $0["g"] = 1 }
        if let draft { _ = try await c.storeDraft(draft, g: 1, create: true) }
        return ws.root
    }

    enum Mode: String, CaseIterable, CustomTestStringConvertible {
        case lock, migrate
        var testDescription: String { rawValue }
    }

    @Test(arguments: Mode.allCases)
    func crashAnywhereThenRerun(_ mode: Mode) async throws {
        let f = CatalogFixture()
        let draft = try f.draft("EP-INST")
        let install = try f.install(draft, g: mode == .lock ? 1 : 2, replacesDraft: mode == .lock)
        let root = try await Self.template(f, draft: mode == .lock ? draft : nil)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let stats = try await FaultSweep.sweep("install (\(mode))", template: root) { ws, ops in
            let catalog = ws.storage.catalog
            ops.arm()
            try await catalog.install(install)
        } check: { root, outcome in
            let ws = Workspace(root: root)
            let s = ws.storage
            let plan = try await s.catalog.loadPlan(g: install.g)
            let journal = try await s.journals.journalExists(install.ref)
            let state = try await s.catalog.loadState()
            switch mode {
            case .lock:
                #expect(plan?.document.isLocked != true || (journal && state.currentStatusID == install.ref.statusID),
                        "a locked plan without its journal or pointer: \(outcome)")
            case .migrate:
                #expect(!journal || plan?.document.isLocked == true, "a journal without its locked plan: \(outcome)")
            }
            if journal { #expect(state.g >= install.gAfter, "a journal before g advanced: \(outcome)") }
            if outcome.succeeded { try await CatalogConformance.requireInstalled(s, install, "install (\(mode))") }
            // The next process runs the same install: it completes.
            try await s.catalog.install(install)
            try await CatalogConformance.requireInstalled(s, install, "rerun after \(outcome)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: root).filter { $0.hasPrefix(".tmp-") }.allSatisfy { _ in outcome.fired },
                    "temp files left without a fault: \(outcome)")
        }
        #expect(stats.fired > 0)
        FaultSweep.report("install (\(mode))", stats.description)
    }

    /// A lock that stopped after the journal (what a crash before the pointer leaves): the plan
    /// is still a DRAFT and a rerun completes it, keeping the journal's bytes.
    @Test func partialLockRerun() async throws {
        let f = CatalogFixture()
        let draft = try f.draft("EP-PART")
        let install = try f.install(draft, g: 1)
        let root = try await Self.template(f, draft: draft)
        let ws = Workspace(root: root)
        try await ws.storage.catalog.updateState { $0["g"] = JSONValue(install.gAfter) }
        try await ws.store.createJournal(install.ref, genesis: install.genesis)
        #expect(try await ws.storage.catalog.loadPlan(g: 1)?.document.isLocked == false)
        try await ws.storage.catalog.install(install)
        try await CatalogConformance.requireInstalled(ws.storage, install)
        #expect(TestSupport.bytes(ws.store.journalPath(install.ref)) == install.genesis)
    }
}
