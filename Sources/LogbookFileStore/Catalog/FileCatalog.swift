#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LogbookCore
import LogbookEngine
import Synchronization

/// The ``Catalog`` of a workspace folder: `state.txt`, `personas.json` and the plan documents
/// `exec_plan_<g>.txt` (docs/FORMAT.md §1, §6a). Every write is a whole-file write by temp file,
/// fsync and rename (``AtomicFile``); creates never clobber.
///
/// - `storeState` is compare-and-swap on `os_file_header.v_file_instance`: the file is read
///   again under the workspace lock (`.workspace.lock`, flock) and replaced only if it is still
///   at the expected version.
/// - ``exclusive(_:)`` holds that lock: every workspace-level act of every process queues on
///   it. It is **not reentrant**: a task that holds it and calls `exclusive` again gets
///   `.conflict` (it would otherwise wait for itself). `storeState` and ``install(_:)`` called
///   inside `exclusive` see that the task holds it and do not take it again.
/// - ``install(_:)`` writes in an order that running it again completes (docs/FORMAT.md §13).
///
/// ```swift
/// let catalog = FileCatalog(root: "/srv/ws", journals: FileJournalStore(directory: "/srv/ws"))
/// let state = try await catalog.loadState()
/// ```
public final class FileCatalog: Catalog {
    public let root: String
    let journals: any JournalStore
    let ops: any FileOps
    /// state.txt's g as of its last `stat` (see ``currentG()``).
    private let gCache = Mutex<(FileVersion, Int)?>(nil)
    /// Read, compare and write of state.txt are one step for every task of this process.
    private let stateWrite = Mutex<Void>(())

    public init(root: String, journals: any JournalStore, ops: any FileOps = PosixFileOps()) {
        var r = root
        while r.count > 1, r.hasSuffix("/") { r.removeLast() }
        self.root = r
        self.journals = journals
        self.ops = ops
    }

    public var statePath: String { root + "/state.txt" }
    public var personasPath: String { root + "/personas.json" }
    public var lockPath: String { root + "/.workspace.lock" }
    public func planPath(g: Int) -> String { root + "/exec_plan_\(g).txt" }

    var atomic: AtomicFile { AtomicFile(ops: ops) }

    // MARK: State

    public func loadState() async throws -> WorkspaceState {
        try readState()
    }

    func readState() throws -> WorkspaceState {
        try WorkspaceState(bytes: ops.readCatalogFile(statePath))
    }

    public func storeState(_ next: WorkspaceState, expected: Int) async throws {
        try await underWorkspaceLock {
            try stateWrite.withLock { _ in
                let current = try readState()
                guard current.version == expected else {
                    throw LogbookError(.conflict, "state.txt changed: it is at v_file_instance \(current.version), this write expected \(expected) (another writer got there first); nothing written",
                                       facts: ["actual_version": JSONValue(current.version), "expected_version": JSONValue(expected)])
                }
                try atomic.write(statePath, PrettyJSON.bytes(next.json))
            }
        }
    }

    /// Changes state.txt under the workspace lock (taken unless this task holds it); returns
    /// the state written, or the current one when `change` leaves it as it is.
    @discardableResult
    func modifyState(_ change: @escaping (inout JSONObject) -> Void) async throws -> WorkspaceState {
        try await underWorkspaceLock {
            try stateWrite.withLock { _ in
                let current = try readState()
                var probe = current.payload
                change(&probe)
                guard probe != current.payload else { return current }
                let next = current.updated(change)
                try atomic.write(statePath, PrettyJSON.bytes(next.json))
                return next
            }
        }
    }

    /// `body` under the workspace lock: taken here, or already held by this task.
    func underWorkspaceLock<T>(_ body: () async throws -> T) async throws -> T {
        if FileLock.named(lockPath).isHeldByCurrentTask { return try await body() }
        return try await FileLock.named(lockPath).withLock(ops: ops, body)
    }

    /// state.txt is only ever replaced by a rename (a new inode), so an unchanged inode, size and
    /// mtime mean the same g: one `stat` per call, a read and parse only when the file changed.
    public func currentG() throws -> Int {
        guard let key = try FileVersion.of(statePath) else { return try readState().g }
        if let (k, g) = gCache.withLock({ $0 }), k == key { return g }
        let g = try readState().g
        gCache.withLock { $0 = (key, g) }
        return g
    }

    public func exclusive<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await FileLock.named(lockPath).withLock(ops: ops, body)
    }

    // MARK: Personas

    public func loadPersonas() async throws -> PersonaRegistry {
        let bytes = try ops.readCatalogFile(personasPath)
        let json: JSONValue
        do { json = try JSONParser.parse(bytes) } catch {
            throw LogbookError(.badInput, "personas.json is not valid JSON: \(error)")
        }
        return try PersonaRegistry(json: json)
    }

    public func storePersonas(_ registry: PersonaRegistry) async throws {
        try atomic.write(personasPath, PrettyJSON.bytes(registry.json()))
    }
}
