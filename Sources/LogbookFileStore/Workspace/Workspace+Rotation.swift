#if canImport(Glibc)
import Glibc
#endif
import LogbookCore
import LogbookEngine

extension Workspace {
    /// The checkpoint written at every rotation: after a commit, if the journal's last rotation
    /// has no checkpoint at its tree size yet, signs one with a key that signed the commit (a
    /// supervisor's if there is one). The root comes from the segment manifest, which the
    /// rotation computed from the segment's own lines. Signed by a supervisor it becomes the
    /// latest checkpoint; signed by another persona it is a witness kept in the history, which
    /// `verify` also checks the journal against. A failure is logged: the commit stands, and the
    /// next signed commit tries again.
    func signRotationCheckpoint(_ file: PlanFile, signers: [SigningKey]) async {
        guard !signers.isEmpty, let last = store.rotationAwaitingCheckpoint(file.journalRef) else { return }
        guard access(checkpointHistoryPath(file, size: last.treeSize), F_OK) != 0 else {
            store.noteCheckpointed(file.journalRef, size: last.treeSize)
            return
        }
        do {
            let registry = try personas()
            let signer = signers.first { registry[$0.persona]?.role == .supervisor } ?? signers[0]
            var cp = Checkpoint(origin: try checkpointOrigin(file), size: last.treeSize, root: last.treeRoot)
            cp.sign(with: signer)
            let bySupervisor = registry[signer.persona]?.role == .supervisor
            try cp.verify(registry: registry, requireSupervisor: bySupervisor)
            try await storeCheckpoint(file, cp, asLatest: bySupervisor)
            store.noteCheckpointed(file.journalRef, size: last.treeSize)
            logger.info("signed the rotation checkpoint of \(file.id) at size \(last.treeSize) (\(last.file)) as \(signer.persona)")
        } catch {
            logger.warning("could not write the checkpoint for the rotation into \(last.file): \(error)")
        }
    }
}
