import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Testing

/// A locked workspace (see ``TestSupport/lockedWorkspace(_:)``) driven through the real `logbook`
/// binary, with a scratch folder beside it for files that are not part of the workspace.
struct CLIFixture: Sendable {
    let ws: Workspace
    let plan: PlanFile
    /// Outside the workspace: plan files to import, stray key files.
    let scratch: String

    var root: String { ws.root }
    var journalPath: String { ws.store.journalPath(plan.journalRef) }
    var snapshotPath: String { ws.store.snapshotPath(plan.journalRef) }

    static func make(_ name: String = "cli") async throws -> CLIFixture {
        let (ws, plan) = try await TestSupport.lockedWorkspace(name)
        return CLIFixture(ws: ws, plan: plan, scratch: TestSupport.tempDirectory(name + "-scratch"))
    }

    /// Runs `logbook args --workspace <root>`.
    @discardableResult
    func cli(_ args: [String], env: [String: String] = [:]) throws -> TestSupport.Run {
        try TestSupport.logbook(args + ["--workspace", root], env: env)
    }

    /// Runs a command that must succeed; records an issue with its stderr if it does not.
    @discardableResult
    func ok(_ args: [String], env: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation) throws -> TestSupport.Run {
        let r = try cli(args, env: env)
        #expect(r.status == 0, "`logbook \(args.joined(separator: " "))` failed (\(r.status)): \(r.stderr)", sourceLocation: sourceLocation)
        return r
    }

    /// Writes `text` to a file in the scratch folder and returns its path.
    func scratchFile(_ name: String, _ text: String, mode: mode_t = 0o644) -> String {
        let path = scratch + "/" + name
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        chmod(path, mode)
        return path
    }

    /// The lines of the journal (without newlines).
    func journalLines() -> [String] {
        String(decoding: TestSupport.bytes(journalPath), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .dropLast().map(String.init)
    }

    func writeJournal(lines: [String]) {
        _ = FileManager.default.createFile(atPath: journalPath, contents: Data(lines.map { $0 + "\n" }.joined().utf8))
    }

    /// Every writer and reader the forged line at `seq` reaches (start, progress, status, task
    /// list) exits 6 naming its seq and the signature, and none of them writes anything.
    func expectEveryCommandRefusesForgedLine(seq: Int, _ context: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = WorkspaceBytes(root)
        for args in [["task", "start", "T2", "--persona", "WORKER"], ["task", "progress", "T1", "--percent", "10", "--persona", "WORKER"],
                     ["status"], ["task", "list"]] {
            let r = try cli(args)
            expectOneLineError(r, code: 6, mentions: ["seq \(seq)", "signature"], "\(context): \(args.joined(separator: " "))", sourceLocation: sourceLocation)
        }
        #expect(before.changes(to: WorkspaceBytes(root)).isEmpty, "\(context): a command wrote after the forged line", sourceLocation: sourceLocation)
    }

    /// Appends, behind the tool's back, `done` of the last line's task as its persona: the right
    /// seq, prev, hash and key id, and the signature `sign` gives (no key: a forgery). Returns it.
    func appendForgedDone(sign: (Event) throws -> [UInt8]) throws -> Event {
        var lines = journalLines()
        let last = try Event(line: Array(lines.last!.utf8))
        var e = last
        e.seq = last.seq + 1
        e.prev = last.hash
        e.type = .done
        e.data = ["summary": "forged"]
        e.idempotencyKey = nil
        e.traceID = nil
        e.sig = try sign(e)
        e.hash = e.computedHash
        lines.append(String(decoding: e.line.dropLast(e.line.last == 0x0A ? 1 : 0), as: UTF8.self))
        writeJournal(lines: lines)
        return e
    }
}

/// The bytes of every regular file in a workspace (and its keys/), to prove a refused command
/// wrote nothing. Lock files (`.workspace.lock`, `.exec_status_<g>.snapshot.lock`) are left out:
/// they are empty and exist only to be locked. So is the durable mark (`.exec_status_<g>.durable`):
/// a cache of how far the journal is synced, which a process that opens a journal rewritten
/// behind its back rebuilds (docs/FORMAT.md §4).
struct WorkspaceBytes: Equatable, CustomStringConvertible {
    var files: [String: [UInt8]]

    init(_ root: String) {
        var files: [String: [UInt8]] = [:]
        for dir in [root, root + "/keys"] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where !name.hasSuffix(".lock") && !name.hasSuffix(".durable") {
                let path = dir + "/" + name
                var isDir: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else { continue }
                files[String(path.dropFirst(root.count + 1))] = TestSupport.bytes(path)
            }
        }
        self.files = files
    }

    var description: String { files.keys.sorted().map { "\($0) (\(files[$0]!.count) bytes)" }.joined(separator: ", ") }

    /// The files that differ between two captures.
    func changes(to other: WorkspaceBytes) -> [String] {
        Set(files.keys).union(other.files.keys).filter { files[$0] != other.files[$0] }.sorted()
    }
}

extension TestSupport.Run {
    /// The lines of stderr (without the final newline).
    var stderrLines: [Substring] { stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast() }
}

/// Checks the CLI's error contract: exit `code`, stdout empty, exactly one stderr line starting
/// `logbook: error:` and containing every string of `mentions`.
func expectOneLineError(_ r: TestSupport.Run, code: Int32, mentions: [String], _ context: String,
                        sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(r.status == code, "\(context): exit \(r.status), expected \(code); stderr: \(r.stderr)", sourceLocation: sourceLocation)
    #expect(r.stdout.isEmpty, "\(context): stdout should be empty, got: \(r.stdout)", sourceLocation: sourceLocation)
    #expect(r.stderr.hasSuffix("\n") && r.stderrLines.count == 1,
            "\(context): stderr should be exactly one line, got \(r.stderrLines.count): \(r.stderr)", sourceLocation: sourceLocation)
    // With --json the one line is the structured error object; otherwise `logbook: error: …`.
    if r.stderr.hasPrefix("{") {
        let exit = (try? JSONParser.parse(Array(r.stderr.utf8)))?["error"]?["exit"]?.intValue
        #expect(exit == Int(code), "\(context): the JSON error should carry exit \(code), got: \(r.stderr)", sourceLocation: sourceLocation)
    } else {
        #expect(r.stderr.hasPrefix("logbook: error: "), "\(context): stderr should start `logbook: error: `, got: \(r.stderr)",
                sourceLocation: sourceLocation)
    }
    for m in mentions {
        #expect(r.stderr.contains(m), "\(context): the error should mention \(m): \(r.stderr)", sourceLocation: sourceLocation)
    }
}

/// A copy of ``TestSupport/planJSON(id:worker:worker2:)`` with its tasks changed by `edit`
/// (indices 0–4 are T1–T5), serialised with a newline per member so errors have lines.
func planVariant(id: String = "EP-TEST", _ edit: (inout [JSONObject]) -> Void = { _ in }) -> String {
    var root = TestSupport.planJSON(id: id).objectValue!
    var payload = root["payload"]!.objectValue!
    var tasks = payload["tasks"]!.arrayValue!.map { $0.objectValue! }
    edit(&tasks)
    payload["tasks"] = .array(tasks.map { .object($0) })
    root["payload"] = .object(payload)
    return PrettyJSON.string(.object(root))
}

extension JSONObject {
    /// Appends `dep` to this task's dependencies.
    mutating func addDependency(_ dep: String) {
        self["dependencies"] = .array((self["dependencies"]?.arrayValue ?? []) + [.string(dep)])
    }
}

/// Parses the `--json` output of a task verb and checks that it is an event whose hash is its
/// content's and whose signature verifies with `key`.
func expectVerifiedEvent(_ stdout: String, key: PublicKey?, sourceLocation: SourceLocation = #_sourceLocation) throws -> Event {
    let line = stdout.hasSuffix("\n") ? String(stdout.dropLast()) : stdout
    #expect(!line.contains("\n"), "--json should print one line: \(stdout)", sourceLocation: sourceLocation)
    let e = try Event(line: Array(line.utf8))
    #expect(e.computedHash == e.hash, "the printed hash is not the hash of the printed content", sourceLocation: sourceLocation)
    #expect(CanonicalJSON.string(e.json) == line, "--json should print the canonical event", sourceLocation: sourceLocation)
    if let key {
        #expect(e.keyID == key.keyID, sourceLocation: sourceLocation)
        #expect(e.sig.map { key.isValid(signature: $0, message: e.signedBytes) } == true, "the signature does not verify", sourceLocation: sourceLocation)
    }
    return e
}
