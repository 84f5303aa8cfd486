import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Disk full, I/O errors, short writes and network file systems on the append path.
@Suite struct FileFaultTests {
    /// A locked workspace, and a second view of it whose system calls can fail.
    func setUp() async throws -> (Workspace, PlanFile, Workspace, FaultyFileOps) {
        let (ws, file) = try await TestSupport.lockedWorkspace("fault")
        let ops = FaultyFileOps()
        return (ws, file, Workspace(root: ws.root, ops: ops), ops)
    }

    func journal(_ ws: Workspace, _ file: PlanFile) -> [UInt8] {
        TestSupport.bytes(ws.store.journalPath(file.journalRef))
    }

    func start(_ ws: Workspace, _ file: PlanFile) async throws -> StatusBook {
        let book = try await ws.engine.book(file)
        _ = try await book.submit(EventRequest(type: .started, task: "T1", persona: "WORKER"), signer: try await ws.engine.signingKey(for: "WORKER"))
        return book
    }

    static let writeFaults: [(String, FaultyFileOps.Fault)] = [
        ("ENOSPC", .errno(ENOSPC)), ("EIO", .errno(EIO)),
    ]

    @Test(arguments: ["ENOSPC", "EIO"])
    func aFailedWriteAcknowledgesNothingAndLeavesTheJournalAsItWas(_ name: String) async throws {
        let (ws, file, faulty, ops) = try await setUp()
        _ = try await start(ws, file)
        let before = journal(ws, file)
        let book = try await faulty.engine.book(file)
        ops.inject(.write, name == "ENOSPC" ? .errno(ENOSPC) : .errno(EIO))
        do {
            _ = try await book.submit(EventRequest(type: .progress, task: "T1", persona: "WORKER", data: ["percent": 10]),
                                      signer: try await ws.engine.signingKey(for: "WORKER"))
            Issue.record("a failed write was acknowledged")
        } catch let e as LogbookError {
            #expect(e.code == .io)
            #expect(e.description.contains(name == "ENOSPC" ? "disk is full" : "I/O"))
        }
        #expect(journal(ws, file) == before)
        // The same book recovers: the next append lands with the next seq.
        let e = try await book.submit(EventRequest(type: .progress, task: "T1", persona: "WORKER", data: ["percent": 20]),
                                      signer: try await ws.engine.signingKey(for: "WORKER"))
        #expect(e.seq == 2)
        #expect(try await ws.engine.verify(file).ok)
    }

    @Test func aShortWriteThenDiskFullIsCutBackUnderTheLock() async throws {
        let (ws, file, faulty, ops) = try await setUp()
        _ = try await start(ws, file)
        let before = journal(ws, file)
        let book = try await faulty.engine.book(file)
        ops.inject(.write, nth: 1, .shortWrite(37))
        ops.inject(.write, nth: 1, .errno(ENOSPC))
        await #expect(throws: LogbookError.self) {
            _ = try await book.submit(EventRequest(type: .progress, task: "T1", persona: "WORKER", data: ["percent": 10]),
                                      signer: try await ws.engine.signingKey(for: "WORKER"))
        }
        #expect(journal(ws, file) == before, "the partial line was left behind")
        #expect(try ws.store.tornTailBytes(file.journalRef) == 0)
    }

    @Test func aFailedSyncIsNeverReportedAsSuccess() async throws {
        let (ws, file, faulty, ops) = try await setUp()
        _ = try await start(ws, file)
        let book = try await faulty.engine.book(file)
        ops.inject(.fdatasync, .errno(EIO))
        do {
            _ = try await book.submit(EventRequest(type: .progress, task: "T1", persona: "WORKER", data: ["percent": 10]),
                                      signer: try await ws.engine.signingKey(for: "WORKER"))
            Issue.record("an event whose fdatasync failed was acknowledged")
        } catch let e as LogbookError {
            #expect(e.code == .indeterminate && e.code.exitCode == 9 && e.description.contains("not acknowledged")
                    && e.description.contains("idempotency key"))
        }
        // The unsynced line was cut under the lock: nobody reads it, now or later.
        #expect(try await ws.store.read(file.journalRef, from: 0, limit: Int.max).count == 2)
        // The handle was poisoned: the next append reopens the file, re-reads it, and continues the chain.
        let e = try await book.submit(EventRequest(type: .progress, task: "T1", persona: "WORKER", data: ["percent": 30]),
                                      signer: try await ws.engine.signingKey(for: "WORKER"))
        #expect(e.seq == 2)
        let report = try await ws.engine.verify(file)
        #expect(report.ok, "\(report.failure?.description ?? "")")
    }

    @Test(arguments: [Int64(0x6969), 0xFF53_4D42, 0x517B, 0xFE53_4D42])
    func journalsOnNetworkFileSystemsAreRefused(_ magic: Int64) async throws {
        let (_, file, faulty, ops) = try await setUp()
        ops.fsTypeOverride.withLock { $0 = magic }
        do {
            _ = try await faulty.engine.book(file)
            Issue.record("a journal on a network file system was opened")
        } catch let e as LogbookError {
            #expect(e.code == .unsupported)
            #expect(e.description.contains("network file system") && e.description.contains("PostgreSQL"))
        }
    }

    @Test func aTornTailIsCutByTheNextWriterWhichKeepsACopy() async throws {
        let (ws, file) = try await TestSupport.lockedWorkspace("torn")
        let book = try await start(ws, file)
        let path = ws.store.journalPath(file.journalRef)
        let intact = TestSupport.bytes(path)
        let partial = Array(#"{"archetype":"IMPLEMENTER","data":{"perc"#.utf8)
        let h = try #require(FileHandle(forWritingAtPath: path))
        h.seekToEndOfFile()
        h.write(Data(partial))
        try h.close()
        let e = try await book.submit(EventRequest(type: .progress, task: "T1", persona: "WORKER", data: ["percent": 5]),
                                      signer: try await ws.engine.signingKey(for: "WORKER"))
        #expect(e.seq == 2)
        let after = TestSupport.bytes(path)
        #expect(Array(after.prefix(intact.count)) == intact)
        let copies = try FileManager.default.contentsOfDirectory(atPath: ws.root).filter { $0.contains(".torn-") }
        #expect(copies.count == 1)
        #expect(TestSupport.bytes(ws.root + "/" + copies[0]) == partial)
        #expect(try await ws.engine.verify(file).ok)
    }
}
