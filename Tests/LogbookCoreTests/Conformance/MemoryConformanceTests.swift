import LogbookCore
import LogbookStoreConformance
import Testing

/// The reference backend passes the journal store's conformance checks (the library's, unchanged).
@Suite struct MemoryConformanceTests {
    @Test(arguments: JournalStoreConformance.checks(for: .memory))
    func journalStore(_ check: JournalStoreConformance.Check) async throws {
        try await JournalStoreConformance.run(check, on: .memory)
    }

    @Test("memory cannot hold a sync, so the durability checks are the only ones left out")
    func checksLeftOut() {
        let left = Set(JournalStoreConformance.Check.allCases).subtracting(JournalStoreConformance.checks(for: .memory))
        #expect(left == [.durableReadsOnly, .failedSyncIsNeverSeen])
    }
}
