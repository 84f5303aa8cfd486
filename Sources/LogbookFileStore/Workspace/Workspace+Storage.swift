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
}
