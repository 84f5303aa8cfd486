import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import LogbookStoreConformance
import Testing

/// The catalog, artifact-store and lifecycle conformance checks on the file backend (a new
/// workspace folder each).
@Suite struct FileCatalogConformanceTests {
    static func storage() throws -> Storage {
        try Workspace.create(at: TestSupport.tempDirectory("catconf")).storage
    }

    @Test(arguments: CatalogConformance.checks)
    func catalog(_ check: ConformanceCheck) async throws {
        try await check.run(Self.storage())
    }

    @Test(arguments: ArtifactStoreConformance.checks)
    func artifacts(_ check: ConformanceCheck) async throws {
        try await check.run(Self.storage())
    }

    @Test(arguments: LifecycleConformance.checks)
    func lifecycle(_ check: ConformanceCheck) async throws {
        try await check.run(Self.storage())
    }
}
