import LogbookCore

/// Everything the engine stores through: one backend's journal store, catalog and artifact
/// store, and where keys come from. The file backend (`Workspace.storage`), the memory backend
/// (``Storage/memory(signers:)``) and PostgreSQL each build one.
public struct Storage: Sendable {
    public var journals: any JournalStore
    public var catalog: any Catalog
    public var artifacts: any ArtifactStore
    public var signers: any SignerSource
    /// A short name for messages and logs ("files at /srv/ws", "memory").
    public var label: String

    public init(journals: any JournalStore, catalog: any Catalog, artifacts: any ArtifactStore,
                signers: any SignerSource, label: String) {
        self.journals = journals
        self.catalog = catalog
        self.artifacts = artifacts
        self.signers = signers
        self.label = label
    }
}

/// A journal store that rotates its live journal into segments and asks for a checkpoint over
/// each rotation (the file store). The engine signs one after the commit that rotated, with a
/// key of that commit's signers.
public protocol RotationWitnessing: Sendable {
    /// The last rotation not yet covered by a stored checkpoint: its tree size and root, and the
    /// segment's name.
    func rotationAwaitingCheckpoint(_ ref: JournalRef) -> (treeSize: Int, treeRoot: Digest256, file: String)?
    /// Records that a checkpoint of `size` is stored.
    func noteCheckpointed(_ ref: JournalRef, size: Int)
}

/// MERGE(storage): replaced by the journal store's findings. A store that can tell how many
/// bytes of a torn (partial) last line await recovery.
public protocol TornTailReporting: Sendable {
    func tornTailBytes(_ ref: JournalRef) throws -> Int
}

/// MERGE(storage): replaced by the journal store's seal. A store that moves every line of a
/// finished journal into its final, read-only form (archive).
public protocol JournalSealing: Sendable {
    /// Seals the journal; returns its segments, their bytes, and the names of what it made read-only.
    func sealJournal(_ ref: JournalRef) throws -> (segments: Int, bytes: Int64, readOnly: [String])
}

extension LogbookEngine {
    func tornTailBytes(_ ref: JournalRef) async throws -> Int {
        guard let s = journals as? any TornTailReporting else { return 0 }
        return try s.tornTailBytes(ref)
    }
}
