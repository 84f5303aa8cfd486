import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Writers trust only what the journal proves (issue 9 §1, §7): the plan against the genesis'
/// digest, files that are what they claim, the upward workspace search, descriptors that live
/// as long as their users, and errors that surface instead of being swallowed.
@Suite struct TrustFileTests {
    // MARK: The plan against its digest

    struct PlanEdit: Sendable, CustomTestStringConvertible {
        let name: String
        let edit: @Sendable (inout JSONObject) -> Void
        let mentions: [String]
        var testDescription: String { name }
    }

    static func editTask(_ i: Int, _ key: String, _ value: JSONValue) -> @Sendable (inout JSONObject) -> Void {
        { root in
            var payload = root["payload"]!.objectValue!
            var tasks = payload["tasks"]!.arrayValue!
            var t = tasks[i].objectValue!
            t[key] = value
            tasks[i] = .object(t)
            payload["tasks"] = .array(tasks)
            root["payload"] = .object(payload)
        }
    }

    static let planEdits: [PlanEdit] = [
        PlanEdit(name: "assignee changed", edit: editTask(1, "assigned_agent_persona", "WORKER2"),
                 mentions: ["changed after lock", "task T2"]),
        PlanEdit(name: "dependency dropped", edit: editTask(2, "dependencies", []), mentions: ["changed after lock", "task T3"]),
        PlanEdit(name: "goal changed", edit: { root in
                     var payload = root["payload"]!.objectValue!
                     payload["plan_definition"] = ["goal": "other", "scope_summary": "", "exclusions_summary": ""]
                     root["payload"] = .object(payload)
                 }, mentions: ["changed after lock", "outside payload.tasks"]),
    ]

    @Test("a plan edited after lock: every writer and reader refuses with verify's finding (exit 6), nothing written", arguments: planEdits)
    func editedPlanIsRefused(_ edit: PlanEdit) async throws {
        let f = try await CLIFixture.make("plan-edit")
        try f.ok(["task", "start", "T1", "--persona", "WORKER"])
        var root = try JSONParser.parse(TestSupport.bytes(f.plan.path)).objectValue!
        edit.edit(&root)
        _ = FileManager.default.createFile(atPath: f.plan.path, contents: Data(PrettyJSON.bytes(.object(root))))
        let before = WorkspaceBytes(f.root)
        for args in [["task", "progress", "T1", "--percent", "50", "--persona", "WORKER"], ["task", "start", "T2", "--persona", "WORKER2"],
                     ["status"], ["status", "--json"], ["task", "list"]] {
            let r = try f.cli(args)
            expectOneLineError(r, code: 6, mentions: edit.mentions, "\(edit.name): \(args.joined(separator: " "))")
        }
        #expect(before.changes(to: WorkspaceBytes(f.root)) == [], "\(edit.name): a refused command wrote")
        let e = await #expect(throws: LogbookError.self) { try await f.ws.engine.provenPlan(f.plan.reread(f.ws)) }
        #expect(e?.code == .corrupt)
        // verify gives the same finding.
        let verify = try await f.ws.engine.verify(try await f.plan.reread(f.ws))
        #expect(verify.failure?.kind == .planEdited)
        for m in edit.mentions { #expect(verify.failure?.message.contains(m) == true, "verify: \(verify.failure?.message ?? "")") }
    }

    @Test("the untouched plan is proved by its genesis")
    func untouchedPlanIsProved() async throws {
        let f = try await CLIFixture.make("plan-ok")
        let genesis = try #require(try await f.ws.engine.provenPlan(f.plan))
        #expect(genesis.seq == 0 && genesis.prev == f.plan.document.digest)
    }

    // MARK: Files are what they claim

    struct Planted: Sendable, CustomTestStringConvertible {
        let name: String
        /// The file replaced (relative to the workspace).
        let file: @Sendable (CLIFixture) -> String
        let kind: String
        var testDescription: String { name }
    }

    static let planted: [Planted] = [
        Planted(name: "journal as a symlink outside", file: { TrustPaths.name($0.journalPath) }, kind: "symlink"),
        Planted(name: "journal as a FIFO", file: { TrustPaths.name($0.journalPath) }, kind: "fifo"),
        Planted(name: "journal as a folder", file: { TrustPaths.name($0.journalPath) }, kind: "dir"),
        Planted(name: "snapshot as a symlink outside", file: { TrustPaths.name($0.snapshotPath) }, kind: "symlink"),
        Planted(name: "snapshot as a FIFO", file: { TrustPaths.name($0.snapshotPath) }, kind: "fifo"),
        Planted(name: "key file as a symlink", file: { _ in "keys/WORKER.key" }, kind: "symlink"),
    ]

    @Test("a journal, snapshot or key that is a symlink, FIFO or folder is refused naming it; the target is untouched", arguments: planted)
    func plantedFilesAreRefused(_ p: Planted) async throws {
        let f = try await CLIFixture.make("planted")
        let rel = p.file(f)
        let path = f.root + "/" + rel
        let outside = f.scratch + "/target"
        let original = TestSupport.bytes(path)
        _ = FileManager.default.createFile(atPath: outside, contents: Data(original))
        chmod(outside, 0o600)
        try FileManager.default.removeItem(atPath: path)
        switch p.kind {
        case "symlink": #expect(symlink(outside, path) == 0)
        case "fifo": #expect(mkfifo(path, 0o644) == 0)
        default: try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        }
        let r = try f.cli(["task", "start", "T1", "--persona", "WORKER"])
        expectOneLineError(r, code: 6, mentions: [TrustPaths.name(rel)], p.name)
        #expect(TestSupport.bytes(outside) == original, "\(p.name): the file outside the workspace was written")
    }

    // MARK: The upward search

    @Test("the search for state.txt stops at a folder another user owns; --workspace and LOGBOOK_WORKSPACE still work")
    func locateStopsAtForeignFolder() async throws {
        let (ws, _) = try await TestSupport.lockedWorkspace("locate")
        let deep = ws.root + "/x/y"
        try FileManager.default.createDirectory(atPath: deep, withIntermediateDirectories: true)
        let me = geteuid()
        #expect(try Workspace.locate(explicit: nil, environment: [:], cwd: deep).root == ws.root, "an own folder is found")
        // The workspace folder now belongs to another user (nobody): its state.txt is not used.
        #expect(chown(ws.root, 65534, 65534) == 0)
        defer { _ = chown(ws.root, me, getegid()) }
        let e = #expect(throws: LogbookError.self) { try Workspace.locate(explicit: nil, environment: [:], cwd: deep) }
        #expect(e?.code == .notFound && e?.message.contains("another user") == true, "\(e?.description ?? "")")
        // Run inside the foreign folder itself: its state.txt is not used either.
        #expect(throws: LogbookError.self) { try Workspace.locate(explicit: nil, environment: [:], cwd: ws.root) }
        #expect(try Workspace.locate(explicit: ws.root, environment: [:], cwd: deep).root == ws.root)
        #expect(try Workspace.locate(explicit: nil, environment: ["LOGBOOK_WORKSPACE": ws.root], cwd: deep).root == ws.root)
        // The user who owns it (and the folders below) finds it.
        #expect(chown(ws.root + "/x", 65534, 65534) == 0 && chown(deep, 65534, 65534) == 0)
        #expect(try Workspace.locate(explicit: nil, environment: [:], cwd: deep, user: 65534).root == ws.root)
    }

    // MARK: Errors surface

    @Test("a torn tail whose copy cannot be saved is not cut: the error names the file, the journal is as it was")
    func tornTailCopyFailureStopsTheCut() async throws {
        let (ws0, file) = try await TestSupport.lockedWorkspace("torn-copy")
        let ops = FaultyFileOps()
        let ws = Workspace(root: ws0.root, ops: ops)
        let book = try await ws.engine.book(file)
        let key = try await ws.engine.signingKey(for: "WORKER")
        let journal = ws.store.journalPath(file.journalRef)
        let h = FileHandle(forWritingAtPath: journal)!
        h.seekToEndOfFile()
        h.write(Data(#"{"seq":1,"prev":"sha"#.utf8))
        h.closeFile()
        let torn = TestSupport.bytes(journal)
        ops.inject(.rename, .errno(EIO))  // the copy's temp file cannot be renamed into place
        let e = await #expect(throws: LogbookError.self) {
            _ = try await book.submit(EventRequest(type: .started, task: "T1", persona: "WORKER"), signer: key)
        }
        #expect(e?.message.contains("torn tail") == true && e?.message.contains(TrustPaths.name(journal)) == true, "\(e?.description ?? "")")
        #expect(TestSupport.bytes(journal) == torn, "the tail was cut although its copy was not saved")
        // Once the copy can be saved, the next writer cuts it and appends.
        let ev = try await book.submit(EventRequest(type: .started, task: "T1", persona: "WORKER"), signer: key)
        #expect(ev.seq == 1)
        let copies = try FileManager.default.contentsOfDirectory(atPath: ws.root).filter { $0.hasPrefix(TrustPaths.name(journal) + ".torn-") }
        #expect(copies.count == 1)
    }

    @Test("a damaged latest checkpoint is not treated as absent: signing stops naming it, the file stays, verify reports it")
    func damagedCheckpointSurfaces() async throws {
        let (ws, file) = try await TestSupport.lockedWorkspace("cp-damaged")
        let sup = try await ws.engine.signingKey(for: "SUPERVISOR")
        try await ws.engine.writeCheckpoint(file, signers: [sup])
        let path = ws.checkpointPath(file)
        let damaged = Array("not a checkpoint\n".utf8)
        _ = FileManager.default.createFile(atPath: path, contents: Data(damaged))
        let e = await #expect(throws: LogbookError.self) { try await ws.engine.writeCheckpoint(file, signers: [sup]) }
        #expect(e?.code == .corrupt && e?.message.contains(TrustPaths.name(path)) == true, "\(e?.description ?? "")")
        #expect(TestSupport.bytes(path) == damaged, "the damaged checkpoint was overwritten")
        let report = try await ws.engine.verify(file)
        #expect(report.failure != nil && report.failure?.message.contains(TrustPaths.name(path)) == true)
    }

    @Test("an explicit snapshot write that fails throws naming the file; the journal is unaffected")
    func snapshotWriteErrorSurfaces() async throws {
        let (ws, file) = try await TestSupport.lockedWorkspace("snap-err")
        let book = try await ws.engine.book(file)  // opened while the snapshot is a file
        let snap = ws.store.snapshotPath(file.journalRef)
        try FileManager.default.removeItem(atPath: snap)
        try FileManager.default.createDirectory(atPath: snap + "/blocker", withIntermediateDirectories: true)
        let e = await #expect(throws: LogbookError.self) { try await book.writeSnapshot(sealedBy: try await ws.engine.signingKey(for: "WORKER")) }
        #expect(e?.message.contains(TrustPaths.name(snap)) == true, "\(e?.description ?? "")")
    }

    // MARK: Freshness

    @Test("every one-shot CLI write leaves the snapshot at its own event, sealed by its persona")
    func cliWritesKeepTheSnapshotFresh() async throws {
        let f = try await CLIFixture.make("fresh")
        for (k, args) in [["task", "start", "T1", "--persona", "WORKER"], ["task", "progress", "T1", "--percent", "10", "--persona", "WORKER"],
                          ["task", "progress", "T1", "--percent", "20", "--persona", "WORKER"], ["task", "start", "T4", "--persona", "WORKER2"]].enumerated() {
            try f.ok(args)
            let doc = try JSONParser.parse(TestSupport.bytes(f.snapshotPath))
            #expect(doc["journal"]?["seq"]?.intValue == k + 1)
            #expect(SnapshotSeal(doc)?.persona == args.last)
            #expect(SnapshotSeal.problem(doc, genesis: try #require(try await f.ws.engine.provenPlan(f.plan))) == nil)
        }
        #expect(try f.cli(["verify"]).status == 0)
    }

    // MARK: Descriptor lifetime

    /// Real system calls that record every use of a descriptor the store did not open or already closed.
    final class TrackingOps: FileOps {
        let real = PosixFileOps()
        let open_ = Mutex<Set<Int32>>([])
        let misuse = Mutex<[String]>([])
        let failSync = Mutex<Int>(0)

        func use(_ fd: Int32, _ call: String) {
            if !open_.withLock({ $0.contains(fd) }) { misuse.withLock { $0.append("\(call) on fd \(fd) after close") } }
        }
        func open(_ path: String, _ flags: Int32, _ mode: mode_t) throws(LogbookError) -> Int32 {
            let fd = try real.open(path, flags, mode)
            open_.withLock { _ = $0.insert(fd) }
            return fd
        }
        func close(_ fd: Int32) {
            if open_.withLock({ $0.remove(fd) }) == nil { misuse.withLock { $0.append("close of fd \(fd) twice") } }
            real.close(fd)
        }
        func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(LogbookError) -> Int { use(fd, "write"); return try real.write(fd, bytes) }
        func pread(_ fd: Int32, _ into: UnsafeMutableRawBufferPointer, _ offset: Int64) throws(LogbookError) -> Int {
            use(fd, "pread"); return try real.pread(fd, into, offset)
        }
        func fdatasync(_ fd: Int32) throws(LogbookError) {
            use(fd, "fdatasync")
            let fail = failSync.withLock { n -> Bool in n += 1; return n % 3 == 0 }
            if fail { throw LogbookError.os("fdatasync", "(injected)", errno: EIO) }
            try real.fdatasync(fd)
        }
        func fsync(_ fd: Int32) throws(LogbookError) { use(fd, "fsync"); try real.fsync(fd) }
        func ftruncate(_ fd: Int32, _ size: Int64) throws(LogbookError) { use(fd, "ftruncate"); try real.ftruncate(fd, size) }
        func size(_ fd: Int32) throws(LogbookError) -> Int64 { use(fd, "size"); return try real.size(fd) }
        func flock(_ fd: Int32, _ op: Int32) throws(LogbookError) { use(fd, "flock"); try real.flock(fd, op) }
        func rename(_ from: String, _ to: String) throws(LogbookError) { try real.rename(from, to) }
        func link(_ from: String, _ to: String) throws(LogbookError) { try real.link(from, to) }
        func unlink(_ path: String) { real.unlink(path) }
        func fsType(_ fd: Int32) throws(LogbookError) -> Int64 { use(fd, "fstatfs"); return try real.fsType(fd) }
    }

    @Test("a handle poisoned by a failed sync keeps its descriptors until its last reader is done: none is used after close")
    func poisonedHandleOutlivesItsUsers() async throws {
        let (ws0, file) = try await TestSupport.lockedWorkspace("poison")
        let ops = TrackingOps()
        let ws = Workspace(root: ws0.root, ops: ops)
        let key = try await ws.engine.signingKey(for: "WORKER")
        let book = try await ws.engine.book(file)
        let ref = file.journalRef
        // Six waves of four writers (each wave commits at least once, so at least six syncs run
        // whatever the batching), with readers racing every wave.
        for wave in 0..<6 {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for k in 0..<4 {
                    group.addTask {
                        _ = try? await book.submit(EventRequest(type: .achievement, task: "T1", persona: "WORKER", data: ["summary": .string("n\(wave)-\(k)")]), signer: key)
                    }
                    group.addTask {
                        for _ in 0..<4 { _ = try await ws.store.read(ref, from: 0, limit: 1 << 20) }
                    }
                }
                try await group.waitForAll()
            }
        }
        #expect(ops.failSync.withLock { $0 } >= 3, "some syncs should have failed (and poisoned the handle)")
        #expect(ops.misuse.withLock { $0 } == [])
        #expect(try await ws.engine.verify(file).ok)
    }
}

extension PlanFile {
    /// The plan file as it is on disk now.
    func reread(_ ws: Workspace) async throws -> PlanFile { try await ws.engine.planFile(g: g) }
}

enum TrustPaths {
    static func name(_ path: String) -> String { String(path.split(separator: "/").last ?? "") }
}
