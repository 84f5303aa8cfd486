import LogbookCore

extension Storage {
    /// A whole backend in memory: a ``MemoryJournalStore``, a ``MemoryCatalog`` (a fresh
    /// workspace at g 0 without personas), a ``MemoryArtifactStore`` and the given keys.
    ///
    /// ```swift
    /// let engine = LogbookEngine(storage: .memory(signers: InMemorySigners([key])))
    /// ```
    ///
    /// - Parameter allowUnsigned: the workspace accepts unsigned personas (`logbook init --allow-unsigned`).
    public static func memory(signers: InMemorySigners = InMemorySigners(), allowUnsigned: Bool = false) -> Storage {
        let journals = MemoryJournalStore()
        return Storage(journals: journals, catalog: MemoryCatalog(journals: journals, allowUnsigned: allowUnsigned),
                       artifacts: MemoryArtifactStore(), signers: signers, label: "memory")
    }
}
