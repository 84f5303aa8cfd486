import LogbookCore
import LogbookEngine
import LogbookStoreConformance
import Testing

/// An engine, its books and its store go away with the last reference to the engine: a book in
/// the engine's registry must not hold the engine (a cycle kept every engine of a test process,
/// with its journal descriptors, alive until the process ended).
@Suite struct EngineLifetimeTests {
    final class Probe: ForwardingJournalStore, @unchecked Sendable {
        let inner: any JournalStore
        init(_ inner: any JournalStore) { self.inner = inner }
    }

    @Test func anEngineThatOpenedABookIsReleased() async throws {
        weak var engineRef: LogbookEngine?
        weak var storeRef: Probe?
        do {
            var storage = Storage.memory()
            let probe = Probe(storage.journals)
            storage.journals = probe
            let engine = LogbookEngine(storage: storage)
            try await engine.addPersona("SUPERVISOR", role: .supervisor, archetype: "SUPERVISOR")
            try await engine.addPersona("WORKER", role: .worker, archetype: "IMPLEMENTER")
            let draft = try CatalogFixture().draft("EP-LIFETIME")
            _ = try await engine.importPlan(bytes: PrettyJSON.bytes(draft.json), name: "p.json")
            let (file, _) = try await engine.lockPlan("EP-LIFETIME", persona: "SUPERVISOR", signer: try await engine.signingKey(for: "SUPERVISOR"))
            let book = try await engine.book(file)
            _ = try await book.submit(EventRequest(type: .started, task: "T1", persona: "WORKER"), signer: try await engine.signingKey(for: "WORKER"))
            engineRef = engine
            storeRef = probe
            #expect(engineRef != nil && storeRef != nil)
        }
        #expect(engineRef == nil, "the engine outlived its last reference (a book holds it)")
        #expect(storeRef == nil, "the journal store outlived the engine")
    }
}
