#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LogbookCore
import LogbookEngine
import Logging

/// A workspace folder: `state.txt`, `personas.json`, `keys/`, plans, status journals and
/// snapshots (SPEC §2). One OS instance; every whole-file write in it is atomic.
///
/// ```swift
/// let ws = try Workspace.create(at: "/tmp/ws")
/// try ws.addPersona("SUPERVISOR", role: .supervisor, archetype: "SUPERVISOR")
/// ```
public struct Workspace: Sendable {
    public let root: String
    public let ops: any FileOps
    public let logger: Logger
    public let store: FileJournalStore

    /// - Parameter rotateBytes: live journal size at which the next writer rotates it into a gzip
    ///   segment (default 5 MiB, or `LOGBOOK_ROTATE_BYTES`).
    public init(root: String, ops: any FileOps = PosixFileOps(), logger: Logger = Logger(label: "logbook"),
                rotateBytes: Int64 = FileJournalStore.defaultRotateBytes) {
        var r = root
        while r.count > 1, r.hasSuffix("/") { r.removeLast() }
        self.root = r
        self.ops = ops
        self.logger = logger
        self.store = FileJournalStore(directory: r, ops: ops, logger: logger, rotateBytes: rotateBytes)
    }

    public var statePath: String { root + "/state.txt" }
    public var personasPath: String { root + "/personas.json" }
    public var keysDirectory: String { root + "/keys" }
    public func planPath(g: Int) -> String { root + "/exec_plan_\(g).txt" }
    public func keyPath(_ persona: String) -> String { keysDirectory + "/\(persona).key" }

    /// Finds the workspace: `explicit`, else `LOGBOOK_WORKSPACE`, else the nearest ancestor of the
    /// current folder that holds a `state.txt`.
    ///
    /// The upward search stops at the first folder not owned by `user` (default: this process's
    /// effective user), as git's `safe.directory` does: a `state.txt` planted in a shared parent
    /// such as `/tmp` never captures another user's commands. `--workspace` and
    /// `LOGBOOK_WORKSPACE` name a folder explicitly and are used whoever owns it.
    public static func locate(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
                              cwd: String = FileManager.default.currentDirectoryPath, user: uid_t = geteuid()) throws -> Workspace {
        if let explicit { return try open(explicit) }
        if let env = environment["LOGBOOK_WORKSPACE"], !env.isEmpty { return try open(env) }
        var dir = cwd
        var stoppedAt: String?
        while true {
            var st = stat()
            guard stat(dir, &st) == 0 else { break }
            guard st.st_uid == user else { stoppedAt = dir; break }
            if access(dir + "/state.txt", F_OK) == 0 { return Workspace(root: dir) }
            let parent = Paths.directory(of: dir)
            if parent == dir || dir == "/" { break }
            dir = parent
        }
        let stop = stoppedAt.map { " (the search stopped at \($0), which another user owns)" } ?? ""
        throw LogbookError(.notFound, "no workspace: no state.txt in \(cwd) or its parents\(stop). Run `logbook init`, pass --workspace DIR, or set LOGBOOK_WORKSPACE")
    }

    /// Opens an existing workspace folder.
    public static func open(_ path: String) throws -> Workspace {
        let abs = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        guard access(abs + "/state.txt", F_OK) == 0 else {
            throw LogbookError(.notFound, "\(path) is not a workspace (no state.txt); run `logbook init --workspace \(path)`")
        }
        return Workspace(root: abs)
    }

    /// Creates a workspace (the folder may exist but must not hold a state.txt).
    public static func create(at path: String, allowUnsigned: Bool = false) throws -> Workspace {
        let abs = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        try FileManager.default.createDirectory(atPath: abs, withIntermediateDirectories: true)
        let ws = Workspace(root: abs)
        if access(ws.statePath, F_OK) == 0 {
            throw LogbookError(.alreadyExists, "\(path) is already a workspace (state.txt exists)")
        }
        if mkdir(ws.keysDirectory, 0o700) != 0 && errno != EEXIST { throw osError("mkdir", ws.keysDirectory) }
        let registry = PersonaRegistry(personas: [], allowUnsigned: allowUnsigned)
        try AtomicFile(ops: ws.ops).write(ws.personasPath, PrettyJSON.bytes(registry.json()))
        try AtomicFile(ops: ws.ops).create(ws.statePath, PrettyJSON.bytes(WorkspaceState.initial().json))
        return ws
    }

    /// Reads a whole file; a missing file is `.notFound` naming it.
    func readFile(_ path: String) throws -> [UInt8] {
        try store.readWhole(path)
    }
}
