import Foundation
import LogbookCore
import LogbookFileStore
import LogbookStoreConformance
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The file backends under the conformance library's checks: the plain file store, and one that
/// rotates every ~2 KiB so every check also runs with the journal spread over gzip segments and
/// the live file. The PostgreSQL backend's test target will call the same checks.
enum FileBackends {
    static let file = JournalStoreConformance.Backend(
        name: "file",
        make: { FileJournalStore(directory: TestSupport.tempDirectory("conf")) },
        makeGated: { gate in FileJournalStore(directory: TestSupport.tempDirectory("conf-gated"), ops: GatedSyncOps(gate)) },
        openChangeStreams: { ($0 as? FileJournalStore)?.openChangeStreams ?? -1 })

    static let rotatingFile = JournalStoreConformance.Backend(
        name: "rotatingFile",
        make: { FileJournalStore(directory: TestSupport.tempDirectory("conf-rot"), rotateBytes: 2048) },
        makeGated: { gate in FileJournalStore(directory: TestSupport.tempDirectory("conf-rot-gated"), ops: GatedSyncOps(gate), rotateBytes: 2048) },
        openChangeStreams: { ($0 as? FileJournalStore)?.openChangeStreams ?? -1 })
}

/// Real system calls whose `fdatasync` asks a ``SyncGate`` first (it may hold it, or fail it with EIO).
struct GatedSyncOps: FileOps {
    let real = PosixFileOps()
    let gate: SyncGate
    init(_ gate: SyncGate) { self.gate = gate }

    func open(_ path: String, _ flags: Int32, _ mode: mode_t) throws(LogbookError) -> Int32 { try real.open(path, flags, mode) }
    func close(_ fd: Int32) { real.close(fd) }
    func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(LogbookError) -> Int { try real.write(fd, bytes) }
    func pread(_ fd: Int32, _ into: UnsafeMutableRawBufferPointer, _ offset: Int64) throws(LogbookError) -> Int { try real.pread(fd, into, offset) }
    func fdatasync(_ fd: Int32) throws(LogbookError) {
        guard gate.syncWillRun() else { throw LogbookError.os("fdatasync", "fd \(fd) (held and failed by the test)", errno: EIO) }
        try real.fdatasync(fd)
    }
    func fsync(_ fd: Int32) throws(LogbookError) { try real.fsync(fd) }
    func ftruncate(_ fd: Int32, _ size: Int64) throws(LogbookError) { try real.ftruncate(fd, size) }
    func size(_ fd: Int32) throws(LogbookError) -> Int64 { try real.size(fd) }
    func flock(_ fd: Int32, _ op: Int32) throws(LogbookError) { try real.flock(fd, op) }
    func rename(_ from: String, _ to: String) throws(LogbookError) { try real.rename(from, to) }
    func link(_ from: String, _ to: String) throws(LogbookError) { try real.link(from, to) }
    func unlink(_ path: String) { real.unlink(path) }
    func fsType(_ fd: Int32) throws(LogbookError) -> Int64 { try real.fsType(fd) }
}

@Suite struct FileConformanceTests {
    @Test(arguments: JournalStoreConformance.checks(for: FileBackends.file))
    func file(_ check: JournalStoreConformance.Check) async throws {
        try await JournalStoreConformance.run(check, on: FileBackends.file)
    }

    @Test(arguments: JournalStoreConformance.checks(for: FileBackends.rotatingFile))
    func rotatingFile(_ check: JournalStoreConformance.Check) async throws {
        try await JournalStoreConformance.run(check, on: FileBackends.rotatingFile)
    }

    @Test("files run every check, the durability ones included")
    func everyCheck() {
        #expect(JournalStoreConformance.checks(for: FileBackends.file) == JournalStoreConformance.Check.allCases)
    }

    @Test("the same events give the same snapshot bytes on memory and on files (no store position in them)")
    func snapshotBytesAreTheSameOnEveryBackend() async throws {
        var bytes: [[UInt8]] = []
        for store in [MemoryJournalStore() as any JournalStore, FileJournalStore(directory: TestSupport.tempDirectory("conf-same")),
                      FileJournalStore(directory: TestSupport.tempDirectory("conf-same-rot"), rotateBytes: 1024)] {
            let f = try await ConformanceFixture.make(store)
            let book = try await f.book(interval: 1000)
            try await JournalStoreConformance.standardEvents(f, book)
            try await book.writeSnapshot(sealedBy: f.keys["SUPERVISOR"])
            bytes.append(try #require(try await store.loadSnapshot(f.ref)))
        }
        #expect(bytes[0] == bytes[1] && bytes[1] == bytes[2])
        #expect(!String(decoding: bytes[0], as: UTF8.self).contains("cursor"))
    }
}
