import LogbookCore
import LogbookEngine
import LogbookStoreConformance
import Testing

/// The catalog, artifact-store and lifecycle conformance checks on the memory backend.
@Suite struct MemoryConformanceTests {
    @Test(arguments: CatalogConformance.checks)
    func catalog(_ check: ConformanceCheck) async throws {
        try await check.run(.memory())
    }

    @Test(arguments: ArtifactStoreConformance.checks)
    func artifacts(_ check: ConformanceCheck) async throws {
        try await check.run(.memory())
    }

    /// The whole lifecycle through the engine, with keys held in this process.
    @Test(arguments: LifecycleConformance.checks)
    func lifecycle(_ check: ConformanceCheck) async throws {
        try await check.run(.memory())
    }

    /// The memory workspace starts as `logbook init` leaves one, with or without unsigned personas.
    @Test(arguments: [false, true])
    func freshWorkspace(_ allowUnsigned: Bool) async throws {
        let s = Storage.memory(allowUnsigned: allowUnsigned)
        let state = try await s.catalog.loadState()
        #expect(state.g == 0 && state.version == 1 && state.currentStatusID == nil)
        #expect(try await s.catalog.loadPersonas().allowUnsigned == allowUnsigned)
        #expect(try await s.catalog.listPlans().isEmpty)
        #expect(s.label == "memory")
    }

    /// Keys given to the memory backend are lent; a missing one is a bad-key error naming the persona.
    @Test func signers() async throws {
        let key = SigningKey(generatingFor: "WORKER")
        let s = Storage.memory(signers: InMemorySigners([key]))
        #expect(try await s.signers.signingKey(for: "WORKER").publicKey == key.publicKey)
        let e = await #expect(throws: LogbookError.self) { _ = try await s.signers.signingKey(for: "SUPERVISOR") }
        #expect(e?.code == .badKey && e?.message.contains("SUPERVISOR") == true)
    }
}
