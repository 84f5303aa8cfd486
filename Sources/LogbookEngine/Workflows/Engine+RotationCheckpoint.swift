import LogbookCore

extension LogbookEngine {
    /// After a commit that rotated the live journal into a segment: a checkpoint over the
    /// rotation, signed by a supervisor among the commit's signers (else by the first signer, as
    /// a witness that is not the latest). Errors are logged; the commit stands.
    func signRotationCheckpoint(_ file: PlanFile, signers: [SigningKey]) async {
        guard !signers.isEmpty, let witness = journals as? any RotationWitnessing,
              let last = witness.rotationAwaitingCheckpoint(file.journalRef) else { return }
        if (try? await artifacts.load(.checkpoint(size: last.treeSize), of: file.journalRef)) != nil {
            witness.noteCheckpointed(file.journalRef, size: last.treeSize)
            return
        }
        do {
            let registry = try await catalog.loadPersonas()
            let signer = signers.first { registry[$0.persona]?.role == .supervisor } ?? signers[0]
            var cp = Checkpoint(origin: try await checkpointOrigin(file), size: last.treeSize, root: last.treeRoot)
            cp.sign(with: signer)
            let bySupervisor = registry[signer.persona]?.role == .supervisor
            try cp.verify(registry: registry, requireSupervisor: bySupervisor)
            try await storeCheckpoint(file, cp, asLatest: bySupervisor)
            witness.noteCheckpointed(file.journalRef, size: last.treeSize)
            logger.info("signed the rotation checkpoint of \(file.id) at size \(last.treeSize) (\(last.file)) as \(signer.persona)")
        } catch {
            logger.warning("could not write the checkpoint for the rotation into \(last.file): \(error)")
        }
    }
}
