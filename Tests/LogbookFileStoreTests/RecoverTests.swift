import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Testing

/// `logbook recover` removes the temporary files of writers that died, and only theirs.
@Suite struct RecoverTests {
    @Test func staleTemporariesOfDeadWritersAreRemovedLiveOnesKept() async throws {
        let (ws, file) = try await TestSupport.lockedWorkspace("recover-tmp")
        // A pid that existed and is gone: a process that has exited.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run()
        p.waitUntilExit()
        let dead = p.processIdentifier
        let mine = ProcessInfo.processInfo.processIdentifier
        let checkpoints = ws.checkpointDirectory(file)
        try FileManager.default.createDirectory(atPath: checkpoints, withIntermediateDirectories: true)
        let stale = [ws.root + "/.tmp-exec_status_1.txt-\(dead)-12345", checkpoints + "/.tmp-7.txt-\(dead)-9"]
        let live = ws.root + "/.tmp-state.txt-\(mine)-777"
        let other = ws.root + "/.tmp-not-ours"
        for path in stale + [live, other] { #expect(FileManager.default.createFile(atPath: path, contents: Data("x".utf8))) }

        let r = try TestSupport.logbook(["recover", "--workspace", ws.root])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("removed 2 temporary file(s)"), "\(r.stdout)")
        for path in stale { #expect(!FileManager.default.fileExists(atPath: path), "\(path) is still there") }
        #expect(FileManager.default.fileExists(atPath: live), "a running writer's temp file was removed")
        #expect(FileManager.default.fileExists(atPath: other), "a file not named like ours was removed")
        #expect(try await ws.engine.verify(file).ok)
    }
}
