import LogbookCore

/// The executable definition of ``JournalStore``: every backend's test target runs these checks
/// against its own store, as Hummingbird ships `HummingbirdTesting` for its servers.
///
/// ```swift
/// @Test(arguments: JournalStoreConformance.checks(for: .memory))
/// func conformance(_ check: JournalStoreConformance.Check) async throws {
///     try await JournalStoreConformance.run(check, on: .memory)
/// }
/// ```
///
/// Each check creates its own journal on a fresh store from ``Backend/make``, so checks run in
/// parallel. A failed check throws a ``ConformanceFailure`` naming it.
///
/// Extension points: the catalog and the artifact store get their own `<Protocol>Conformance`
/// types in this target, with the same shape (a `Backend` of factories, a `Check` enum,
/// `checks(for:)` and `run(_:on:)`), sharing ``ConformanceFailure`` and ``ConformanceFixture``.
public enum JournalStoreConformance {
    /// How to make stores of one backend, and what it can simulate.
    public struct Backend: Sendable, CustomStringConvertible {
        public var name: String
        /// A fresh, empty store.
        public var make: @Sendable () async throws -> any JournalStore
        /// A fresh store whose journal syncs call ``SyncGate/syncWillRun()`` first, if the backend
        /// can simulate a sync that is slow or fails. Nil: the durability checks are skipped
        /// (``checks(for:)`` leaves them out).
        public var makeGated: (@Sendable (SyncGate) async throws -> any JournalStore)?
        /// How many change streams of `store` still hold resources (threads, watches,
        /// descriptors), if the backend can tell. Nil: the release is not checked.
        public var openChangeStreams: (@Sendable (any JournalStore) -> Int)?

        public init(name: String, make: @escaping @Sendable () async throws -> any JournalStore,
                    makeGated: (@Sendable (SyncGate) async throws -> any JournalStore)? = nil,
                    openChangeStreams: (@Sendable (any JournalStore) -> Int)? = nil) {
            self.name = name
            self.make = make
            self.makeGated = makeGated
            self.openChangeStreams = openChangeStreams
        }

        public var description: String { name }

        /// The in-memory reference backend.
        public static var memory: Backend { Backend(name: "memory", make: { MemoryJournalStore() }) }
    }

    /// One promise of the contract.
    public enum Check: String, CaseIterable, Sendable, CustomStringConvertible {
        // The store alone, with synthetic lines (any envelope: top-level "seq" and "hash").
        case createAndExists, missingJournal, orderedBoundedReads, appendExclusion, buildThrowsWritesNothing,
             head, lineAtSeqAndHints, changesWake, sealRefusesAppends, healthyJournalHasNoFindings, snapshotRules,
             checkMarksTravelWithTheirLines
        // Durability, where the backend can hold a sync (``Backend/makeGated``).
        case durableReadsOnly, failedSyncIsNeverSeen
        // A StatusBook over the store (real, signed events).
        case bookFoldsOtherWritersLines, refusedEventsWriteNothing, readersDuringCommitsSeeConsistentStates,
             manyBooksLoseNothing, snapshotRebuildsBitForBit, readersAreExactBeyondTheSnapshot,
             sealedSnapshotIsProvedByTheStore

        public var description: String { rawValue }

        var needsSyncGate: Bool { self == .durableReadsOnly || self == .failedSyncIsNeverSeen }
    }

    /// The checks `backend` can run (all, less the durability ones without ``Backend/makeGated``).
    public static func checks(for backend: Backend) -> [Check] {
        Check.allCases.filter { !$0.needsSyncGate || backend.makeGated != nil }
    }

    /// Runs one check on a fresh store of `backend`.
    ///
    /// - Throws: ``ConformanceFailure`` naming the check, or the store's own error if a call that
    ///   must succeed failed.
    public static func run(_ check: Check, on backend: Backend) async throws {
        switch check {
        case .createAndExists: try await createAndExists(backend)
        case .missingJournal: try await missingJournal(backend)
        case .orderedBoundedReads: try await orderedBoundedReads(backend)
        case .appendExclusion: try await appendExclusion(backend)
        case .buildThrowsWritesNothing: try await buildThrowsWritesNothing(backend)
        case .checkMarksTravelWithTheirLines: try await checkMarksTravelWithTheirLines(backend)
        case .head: try await head(backend)
        case .lineAtSeqAndHints: try await lineAtSeqAndHints(backend)
        case .changesWake: try await changesWake(backend)
        case .sealRefusesAppends: try await sealRefusesAppends(backend)
        case .healthyJournalHasNoFindings: try await healthyJournalHasNoFindings(backend)
        case .snapshotRules: try await snapshotRules(backend)
        case .durableReadsOnly: try await durableReadsOnly(backend)
        case .failedSyncIsNeverSeen: try await failedSyncIsNeverSeen(backend)
        case .bookFoldsOtherWritersLines: try await bookFoldsOtherWritersLines(backend)
        case .refusedEventsWriteNothing: try await refusedEventsWriteNothing(backend)
        case .readersDuringCommitsSeeConsistentStates: try await readersDuringCommits(backend)
        case .manyBooksLoseNothing: try await manyBooksLoseNothing(backend)
        case .snapshotRebuildsBitForBit: try await snapshotRebuildsBitForBit(backend)
        case .readersAreExactBeyondTheSnapshot: try await readersAreExactBeyondTheSnapshot(backend)
        case .sealedSnapshotIsProvedByTheStore: try await sealedSnapshotIsProvedByTheStore(backend)
        }
    }

    /// Runs every check `backend` can run, in order; stops at the first failure.
    public static func runAll(on backend: Backend) async throws {
        for check in checks(for: backend) { try await run(check, on: backend) }
    }
}
