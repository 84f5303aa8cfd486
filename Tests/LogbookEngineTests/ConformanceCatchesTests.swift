import Synchronization
import LogbookCore
import LogbookEngine
import LogbookStoreConformance
import Testing

/// The conformance checks fail a backend that breaks their promise: each broken catalog or
/// artifact store below (the memory one with one promise removed) is caught by its check.
@Suite struct ConformanceCatchesTests {
    /// The memory catalog with one flaw.
    final class Broken: Catalog {
        enum Flaw: String, CaseIterable, CustomTestStringConvertible {
            /// storeState ignores the expected version (last writer wins).
            case noCompareAndSwap
            /// exclusive runs the body without excluding anyone.
            case noExclusion
            /// install over a journal with another genesis goes ahead.
            case installIgnoresGenesis
            /// storeDraft with `create` writes over an existing plan.
            case createClobbers
            var testDescription: String { rawValue }
        }

        let inner: MemoryCatalog
        let journals: any JournalStore
        let flaw: Flaw

        init(_ flaw: Flaw, journals: any JournalStore) {
            self.flaw = flaw
            self.journals = journals
            self.inner = MemoryCatalog(journals: journals)
        }

        func loadState() async throws -> WorkspaceState { try await inner.loadState() }
        func storeState(_ next: WorkspaceState, expected: Int) async throws {
            if flaw == .noCompareAndSwap {
                await Task.yield()
                return try await inner.storeState(next, expected: try await inner.loadState().version)
            }
            try await inner.storeState(next, expected: expected)
        }
        func loadPersonas() async throws -> PersonaRegistry { try await inner.loadPersonas() }
        func storePersonas(_ registry: PersonaRegistry) async throws { try await inner.storePersonas(registry) }
        func listPlans() async throws -> [PlanFile] { try await inner.listPlans() }
        func loadPlan(g: Int) async throws -> PlanFile? { try await inner.loadPlan(g: g) }
        func storeDraft(_ document: PlanDocument, g: Int, create: Bool) async throws -> PlanFile {
            try await inner.storeDraft(document, g: g, create: flaw == .createClobbers ? false : create)
        }
        func install(_ install: PlanInstall) async throws {
            if flaw == .installIgnoresGenesis, try await journals.journalExists(install.ref) {
                var state = try await inner.loadState()
                state = state.updated { WorkspaceState.point(&$0, statusID: install.ref.statusID, planID: install.ref.planID) }
                try await inner.storeState(state, expected: try await inner.loadState().version)
                return
            }
            try await inner.install(install)
        }
        func currentG() throws -> Int { try inner.currentG() }
        func exclusive<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
            if flaw == .noExclusion { return try await body() }
            return try await inner.exclusive(body)
        }
    }

    static func check(for flaw: Broken.Flaw) -> ConformanceCheck {
        let name: String = switch flaw {
        case .noCompareAndSwap: "state compare-and-swap"
        case .noExclusion: "exclusive excludes"
        case .installIgnoresGenesis: "install with another genesis refused"
        case .createClobbers: "DRAFT create-only and replace"
        }
        return CatalogConformance.checks.first { $0.name == name }!
    }

    @Test(arguments: Broken.Flaw.allCases)
    func brokenCatalogFails(_ flaw: Broken.Flaw) async throws {
        let memory = Storage.memory()
        var storage = memory
        storage.catalog = Broken(flaw, journals: memory.journals)
        let check = Self.check(for: flaw)
        let failure = await #expect(throws: ConformanceFailure.self) { try await check.run(storage) }
        #expect(failure?.check == check.name)
        // The same check passes on the intact backend.
        try await check.run(.memory())
    }

    /// An artifact store whose seal changes nothing.
    struct SealIgnored: ArtifactStore {
        let inner = MemoryArtifactStore()
        func load(_ artifact: Artifact, of ref: JournalRef) async throws -> [UInt8]? { try await inner.load(artifact, of: ref) }
        func store(_ artifact: Artifact, of ref: JournalRef, _ bytes: [UInt8]) async throws { try await inner.store(artifact, of: ref, bytes) }
        func checkpointSizes(of ref: JournalRef) async throws -> [Int] { try await inner.checkpointSizes(of: ref) }
        func exclusive<T: Sendable>(checkpointsOf ref: JournalRef, _ body: @Sendable () async throws -> T) async throws -> T {
            try await inner.exclusive(checkpointsOf: ref, body)
        }
        func seal(_ ref: JournalRef) async throws -> [String] {
            let sizes = try await inner.checkpointSizes(of: ref).map { Artifact.checkpoint(size: $0) }
            var names: [String] = []
            for a in Artifact.fixed + sizes where try await inner.load(a, of: ref) != nil { names.append(inner.name(of: a, ref)) }
            return names
        }
        func name(of artifact: Artifact, _ ref: JournalRef) -> String { inner.name(of: artifact, ref) }
    }

    @Test func unsealedStoreFails() async throws {
        var storage = Storage.memory()
        storage.artifacts = SealIgnored()
        let check = ArtifactStoreConformance.checks.first { $0.name == "seal" }!
        let failure = await #expect(throws: ConformanceFailure.self) { try await check.run(storage) }
        #expect(failure?.message.contains("sealed") == true)
    }

    /// A journal store whose seal does nothing.
    struct JournalSealIgnored: ForwardingJournalStore {
        let inner: any JournalStore
        @discardableResult
        func seal(_ ref: JournalRef) async throws -> SealedJournal { SealedJournal(parts: 1, bytes: 0, readOnly: []) }
    }

    /// The lifecycle check, run through the engine, catches a journal store that does not seal
    /// at archive; it passes on the intact memory backend.
    @Test func lifecycleCatchesAnUnsealedJournal() async throws {
        var storage = Storage.memory()
        storage.journals = JournalSealIgnored(inner: storage.journals)
        let check = LifecycleConformance.checks[0]
        let failure = await #expect(throws: ConformanceFailure.self) { try await check.run(storage) }
        #expect(failure?.message.contains("did not seal") == true, "\(failure?.message ?? "")")
        try await check.run(.memory())
    }

    /// A journal store that keeps a mark even for an append that wrote nothing.
    final class MarkWithoutLines: ForwardingJournalStore {
        let inner: any JournalStore
        let stray = Mutex<[UInt8]?>(nil)
        init(_ inner: any JournalStore) { self.inner = inner }
        func append(_ ref: JournalRef, from cursor: Int64,
                    marking build: @escaping @Sendable ([JournalLine], [UInt8]?) throws -> MarkedLines) async throws -> Int64 {
            try await inner.append(ref, from: cursor, marking: { [self] newer, mark in
                let out = try build(newer, stray.withLock { $0 } ?? mark)
                if out.lines.isEmpty, let m = out.checkMark { stray.withLock { $0 = m } }
                return out
            })
        }
    }

    /// The check-mark check catches a store that keeps a mark whose append wrote nothing; it
    /// passes on the intact memory store.
    @Test func checkMarksCatchAMarkKeptWithoutItsLines() async throws {
        let broken = JournalStoreConformance.Backend(name: "mark-without-lines", make: { MarkWithoutLines(MemoryJournalStore()) })
        let failure = await #expect(throws: ConformanceFailure.self) {
            try await JournalStoreConformance.run(.checkMarksTravelWithTheirLines, on: broken)
        }
        #expect(failure?.message.contains("wrote nothing") == true, "\(failure?.message ?? "")")
        try await JournalStoreConformance.run(.checkMarksTravelWithTheirLines, on: .memory)
    }
}
