import LogbookCore
import LogbookEngine

/// The file store rotates its live journal into gzip segments (docs/FORMAT.md §11) and asks
/// the engine for a checkpoint over each rotation.
extension FileJournalStore: RotationWitnessing {
    /// The last rotation this process has not yet seen a checkpoint stored for (answered from
    /// the manifest the journal's handle holds: no I/O).
    @_disfavoredOverload
    public func rotationAwaitingCheckpoint(_ ref: JournalRef) -> (treeSize: Int, treeRoot: Digest256, file: String)? {
        let segment: SegmentManifest.Segment? = rotationAwaitingCheckpoint(ref)
        return segment.map { ($0.treeSize, $0.treeRoot, $0.file) }
    }
}
