import LogbookCore
import LogbookEngine

extension Workspace {
    /// The workspace as the engine's storage: this folder's journal store, catalog
    /// (`state.txt`, `personas.json`, plans), artifact store (checkpoints, reports, backups) and
    /// key folder (`keys/`), all through this workspace's system calls.
    ///
    /// ```swift
    /// let engine = LogbookEngine(storage: try Workspace.open("/srv/ws").storage)
    /// ```
    public var storage: Storage {
        Storage(journals: store, catalog: FileCatalog(root: root, journals: store, ops: ops),
                artifacts: FileArtifactStore(root: root, ops: ops), signers: KeyFolder(directory: keysDirectory, ops: ops),
                label: "files at \(root)")
    }

    /// An engine over this workspace: every workflow (lock, book, verify, validate, freeze,
    /// archive, checkpoints, migrate, key rotation) runs through it.
    ///
    /// Each access makes a new engine with its own book registry: a process keeps the one it
    /// got (the CLI holds one per command), so that every caller shares one book per plan and
    /// its group commit.
    ///
    /// ```swift
    /// let engine = try Workspace.open("/srv/ws").engine
    /// let book = try await engine.book(try await engine.plan("EP-1"))
    /// ```
    public var engine: LogbookEngine { engine() }

    /// ``engine`` with other options (snapshot cadence, signature checks, the clock).
    public func engine(_ options: LogbookEngine.Options = .init()) -> LogbookEngine {
        LogbookEngine(storage: storage, options: options, logger: logger)
    }
}
