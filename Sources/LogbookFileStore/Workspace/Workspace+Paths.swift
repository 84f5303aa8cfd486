import LogbookCore
import LogbookEngine

/// Where a workspace folder keeps what the engine stores (docs/FORMAT.md §1), for tools and
/// tests that look at the files themselves. The engine never uses these: it goes through the
/// storage protocols.
extension Workspace {
    var artifactFiles: FileArtifactStore { FileArtifactStore(root: root, ops: ops) }

    /// `exec_status_<g>.checkpoint`, the latest checkpoint.
    public func checkpointPath(_ file: PlanFile) -> String { artifactFiles.path(.latestCheckpoint, of: file.journalRef) }
    /// `exec_status_<g>.checkpoints`, every checkpoint stored, by tree size.
    public func checkpointDirectory(_ file: PlanFile) -> String { artifactFiles.checkpointDirectory(file.journalRef) }
    /// `exec_status_<g>.checkpoints/<size>.txt`.
    public func checkpointHistoryPath(_ file: PlanFile, size: Int) -> String { artifactFiles.path(.checkpoint(size: size), of: file.journalRef) }
    /// `validation_report_<g>.json` and `.md`.
    public func reportPaths(_ file: PlanFile) -> (json: String, markdown: String) {
        (artifactFiles.path(.reportJSON, of: file.journalRef), artifactFiles.path(.reportMarkdown, of: file.journalRef))
    }
    /// `keys/<persona>.key.rotating`, the next key while a key rotation is under way.
    public func pendingKeyPath(_ persona: String) -> String { KeyFolder(directory: keysDirectory, ops: ops).pendingKeyPath(persona) }
    /// `migrated/`, where `migrate` keeps the sources it replaced.
    public var migratedDirectory: String { root + "/migrated" }
    /// `migrated/exec_plan_<g>.premigration.bak`.
    public func migrationBackupPath(g: Int) -> String { root + "/" + Artifact.migrationSource.standardName(g: g) }
    /// `migrated/exec_plan_<g>.state.premigration.bak`.
    public func migrationStateBackupPath(g: Int) -> String { root + "/" + Artifact.migrationRetryCounters.standardName(g: g) }
}
