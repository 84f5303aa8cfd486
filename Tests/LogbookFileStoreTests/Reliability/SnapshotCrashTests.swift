import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Testing

/// A crash between the snapshot's temp write and its rename, or before the folder fsync: the
/// journal remains the truth; a stale, missing or damaged snapshot is rebuilt. (The fault sweep
/// crashes the snapshot write at every operation; these are the named cases, end to end.)
@Suite struct SnapshotCrashTests {
    static func workspace() async throws -> (Workspace, PlanFile, StatusState) {
        let (ws, file) = try await TestSupport.lockedWorkspace("snapcrash")
        let book = try await ws.engine.book(file)
        let key = try await ws.engine.signingKey(for: "WORKER")
        _ = try await book.submit(EventRequest(type: .started, task: "T1", persona: "WORKER"), signer: key)
        for p in 1...5 { _ = try await book.submit(EventRequest(type: .progress, task: "T1", persona: "WORKER", data: ["percent": JSONValue(p * 10)]), signer: key) }
        return (ws, file, try await book.state())
    }

    /// The state a new process reads equals a full replay of the journal, and a write repairs the snapshot.
    static func expectRebuilt(_ ws: Workspace, _ file: PlanFile, _ truth: StatusState, _ what: String) async throws {
        let ws2 = Workspace(root: ws.root)
        let book = try await ws2.engine.book(file)
        let state = try await book.state()
        #expect(state.seq == truth.seq && state.snapshot() == truth.snapshot(), "\(what): state differs from the journal")
        _ = try await book.submit(EventRequest(type: .progress, task: "T1", persona: "WORKER", data: ["percent": 90]), signer: try await ws2.engine.signingKey(for: "WORKER"))
        try await book.writeSnapshot()
        let report = try await ws2.engine.verify(file)
        #expect(report.ok, "\(what): \(report.failure?.description ?? "")")
    }

    @Test func crashAfterTheTempWriteBeforeTheRename() async throws {
        let (ws, file, truth) = try await Self.workspace()
        let path = ws.store.snapshotPath(file.journalRef)
        let old = TestSupport.bytes(path)
        let (fresh, _) = try await ws.engine.book(file).snapshotBytes()
        // The temp file is complete and synced, the rename never happened.
        overwrite(ws.root + "/.tmp-exec_status_\(file.g).txt-4242-1", fresh)
        #expect(TestSupport.bytes(path) == old)
        #expect(try await ws.engine.verify(file).ok)
        try await Self.expectRebuilt(ws, file, truth, "temp written, not renamed")
    }

    @Test(arguments: ["old name survived", "new name survived"])
    func crashAfterTheRenameBeforeTheFolderSync(_ name: String) async throws {
        // Renamed but the folder not synced: after a power loss either name may survive.
        let (ws, file, truth) = try await Self.workspace()
        let path = ws.store.snapshotPath(file.journalRef)
        let old = TestSupport.bytes(path)
        let (fresh, _) = try await ws.engine.book(file).snapshotBytes()
        overwrite(path, name.hasPrefix("old") ? old : fresh)
        #expect(try await ws.engine.verify(file).ok, "\(name)")
        try await Self.expectRebuilt(ws, file, truth, name)
    }

    @Test func aMissingSnapshotIsRebuiltOnTheNextWrite() async throws {
        let (ws, file, truth) = try await Self.workspace()
        let path = ws.store.snapshotPath(file.journalRef)
        try FileManager.default.removeItem(atPath: path)
        #expect(try await ws.engine.verify(file).ok)
        try await Self.expectRebuilt(ws, file, truth, "missing")
        #expect(FileManager.default.fileExists(atPath: path))
    }

    @Test(arguments: ["torn", "garbage", "other plan", "wrong head"])
    func aDamagedSnapshotIsIgnoredByReadersAndRebuilt(_ damage: String) async throws {
        let (ws, file, truth) = try await Self.workspace()
        let path = ws.store.snapshotPath(file.journalRef)
        let good = TestSupport.bytes(path)
        let text = String(decoding: good, as: UTF8.self)
        let bad: [UInt8]
        switch damage {
        case "torn": bad = Array(good.prefix(good.count / 2))
        case "garbage": bad = Array("\u{0}\u{1}not json at all".utf8)
        case "other plan": bad = Array(text.replacingOccurrences(of: "\"EP-TEST\"", with: "\"EP-OTHER\"").utf8)
        default: bad = Array(text.replacingOccurrences(of: "\"head_hash\": \"sha256:", with: "\"head_hash\": \"sha256:0").utf8)
        }
        overwrite(path, bad)
        let report = try await ws.engine.verify(file)
        #expect(!report.ok && report.failure?.kind == .snapshotMismatch, "\(damage): \(report)")
        try await Self.expectRebuilt(ws, file, truth, damage)
    }
}
