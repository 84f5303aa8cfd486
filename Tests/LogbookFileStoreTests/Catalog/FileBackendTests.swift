import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import LogbookStoreConformance
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What only the file backend promises: file names, modes, key-file checks, the one-stat g.
@Suite struct FileBackendTests {
    static let ref = JournalRef(planID: "EP-F", g: 3)

    @Test(arguments: [
        (Artifact.latestCheckpoint, "exec_status_3.checkpoint"),
        (.checkpoint(size: 12), "exec_status_3.checkpoints/12.txt"),
        (.reportJSON, "validation_report_3.json"),
        (.reportMarkdown, "validation_report_3.md"),
        (.migrationSource, "migrated/exec_plan_3.premigration.bak"),
        (.migrationRetryCounters, "migrated/exec_plan_3.state.premigration.bak"),
    ])
    func artifactFiles(_ artifact: Artifact, _ name: String) async throws {
        let root = TestSupport.tempDirectory("art")
        let store = FileArtifactStore(root: root)
        #expect(store.name(of: artifact, Self.ref) == name)
        try await store.store(artifact, of: Self.ref, Array("x\n".utf8))
        #expect(TestSupport.bytes(root + "/" + name) == Array("x\n".utf8))
        var st = stat()
        #expect(stat(root + "/" + name, &st) == 0 && st.st_mode & 0o777 == 0o644)
        let dir = (root + "/" + name).split(separator: "/").dropLast().joined(separator: "/")
        if "/" + dir != root {
            #expect(stat("/" + dir, &st) == 0 && st.st_mode & 0o777 == 0o755, "folder \(dir) mode")
        }
        let sealed = try await store.seal(Self.ref)
        #expect(sealed == [root + "/" + name])
        #expect(stat(root + "/" + name, &st) == 0 && st.st_mode & 0o777 == 0o444)
    }

    @Test func checkpointLockIsTheLockFile() async throws {
        let root = TestSupport.tempDirectory("cplock")
        let store = FileArtifactStore(root: root)
        let n = try await store.exclusive(checkpointsOf: Self.ref) { 5 }
        #expect(n == 5)
        #expect(access(root + "/.exec_status_3.checkpoint.lock", F_OK) == 0)
    }

    @Test func keyFolder() async throws {
        let ws = try Workspace.create(at: TestSupport.tempDirectory("keys"))
        let signers = ws.storage.signers
        let key = SigningKey(generatingFor: "WORKER")
        try await signers.storeNewKey(key)
        var st = stat()
        #expect(stat(ws.keyPath("WORKER"), &st) == 0 && st.st_mode & 0o777 == 0o600)
        #expect(try await signers.signingKey(for: "WORKER").publicKey == key.publicKey)
        // Create-only: a second key never replaces the first.
        let again = await #expect(throws: LogbookError.self) { try await signers.storeNewKey(SigningKey(generatingFor: "WORKER")) }
        #expect(again?.code == .alreadyExists)
        #expect(try await signers.signingKey(for: "WORKER").publicKey == key.publicKey)
        // Readable by others: refused with the chmod to run.
        chmod(ws.keyPath("WORKER"), 0o644)
        let open = await #expect(throws: LogbookError.self) { _ = try await signers.signingKey(for: "WORKER") }
        #expect(open?.code == .badKey)
        #expect(open?.message == "key file \(ws.keyPath("WORKER")) is readable by others (mode 644); run chmod 600 \(ws.keyPath("WORKER"))")
        // Missing; a symbolic link.
        let missing = await #expect(throws: LogbookError.self) { _ = try await signers.signingKey(for: "NOBODY") }
        #expect(missing?.message == "no private key for persona NOBODY at \(ws.keyPath("NOBODY")) (pass --key-file or set LOGBOOK_KEY_FILE)")
        chmod(ws.keyPath("WORKER"), 0o600)
        symlink(ws.keyPath("WORKER"), ws.keyPath("LINKED"))
        let link = await #expect(throws: LogbookError.self) { _ = try await signers.signingKey(for: "LINKED") }
        #expect(link?.code == .corrupt && link?.message.contains("symbolic link") == true)
    }

    @Test func keyFile() async throws {
        let ws = try Workspace.create(at: TestSupport.tempDirectory("keyfile"))
        let key = SigningKey(generatingFor: "WORKER")
        let path = ws.root + "/worker.key"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(key.fileText.utf8), attributes: [.posixPermissions: 0o600]))
        let lone = KeyFile(path: path, persona: "WORKER")
        #expect(try await lone.signingKey(for: "WORKER").publicKey == key.publicKey)
        let other = await #expect(throws: LogbookError.self) { _ = try await lone.signingKey(for: "SUPERVISOR") }
        #expect(other?.code == .badKey && other?.message.contains("SUPERVISOR") == true && other?.message.contains(path) == true)
        let store = await #expect(throws: LogbookError.self) { try await lone.storeNewKey(key) }
        #expect(store?.code == .unsupported)
        // Other personas from the fallback (the key folder).
        let sup = SigningKey(generatingFor: "SUPERVISOR")
        try await ws.storage.signers.storeNewKey(sup)
        let withFolder = KeyFile(path: path, persona: "WORKER", fallback: ws.storage.signers)
        #expect(try await withFolder.signingKey(for: "SUPERVISOR").publicKey == sup.publicKey)
        chmod(path, 0o640)
        let open = await #expect(throws: LogbookError.self) { _ = try await withFolder.signingKey(for: "WORKER") }
        #expect(open?.message == "key file \(path) is readable by others (mode 640); run chmod 600 \(path)")
    }

    /// `currentG` follows state.txt when another process replaces it (a rename: new inode).
    @Test func currentGFollowsTheFile() async throws {
        let ws = try Workspace.create(at: TestSupport.tempDirectory("curg"))
        let c = ws.storage.catalog
        #expect(try c.currentG() == 0)
        #expect(try c.currentG() == 0)
        let other = ws.storage.catalog  // another writer
        try await other.updateState { $0["g"] = 17 }
        #expect(try c.currentG() == 17)
        try FileManager.default.removeItem(atPath: ws.statePath)
        let gone = #expect(throws: LogbookError.self) { _ = try c.currentG() }
        #expect(gone?.code == .notFound)
    }

    /// The CAS re-reads state.txt under the lock file: a writer that read an older version loses.
    @Test func storeStateConflictNamesBothVersions() async throws {
        let ws = try Workspace.create(at: TestSupport.tempDirectory("cas"))
        let a = ws.storage.catalog, b = Workspace(root: ws.root).storage.catalog
        let s0 = try await a.loadState()
        try await b.storeState(s0.updated { $0["g"] = 3 }, expected: s0.version)
        let e = await #expect(throws: LogbookError.self) { try await a.storeState(s0.updated { $0["g"] = 4 }, expected: s0.version) }
        #expect(e?.code == .conflict && e?.message.contains("v_file_instance 2") == true && e?.message.contains("expected 1") == true)
        #expect(try await a.loadState().g == 3)
        #expect(access(ws.root + "/.workspace.lock", F_OK) == 0)
    }

    @Test func storageLabelAndWitness() async throws {
        let ws = try Workspace.create(at: TestSupport.tempDirectory("label"))
        #expect(ws.storage.label == "files at \(ws.root)")
        let witness: any RotationWitnessing = ws.store
        #expect(witness.rotationAwaitingCheckpoint(Self.ref) == nil)
    }
}
