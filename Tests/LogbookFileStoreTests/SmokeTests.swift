import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Testing

@Suite struct SmokeTests {
    @Test func binaryIsBuiltBesideTheTests() throws {
        #expect(FileManager.default.isExecutableFile(atPath: TestSupport.binary), "no logbook binary at \(TestSupport.binary)")
        let r = try TestSupport.logbook(["--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("task"))
    }
}
