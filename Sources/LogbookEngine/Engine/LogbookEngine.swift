import Foundation
import LogbookCore
import Logging
import Synchronization

/// Every workflow the tools run (lock a plan, open a book, submit, status, verify, validate,
/// freeze, report, archive, checkpoint, prove, migrate, rotate keys) over one backend's
/// ``Storage``. Front ends (CLI, server, MCP) hold an engine; only the executable chooses the
/// backend.
///
/// ```swift
/// let engine = LogbookEngine(storage: .memory())
/// let (file, _) = try await engine.lockPlan("EP-1", persona: "SUPERVISOR", signer: key)
/// let book = try await engine.book(file)
/// ```
public final class LogbookEngine: Sendable {
    public struct Options: Sendable {
        /// Snapshot every this many events, and when the book has not stored one for this long.
        public var snapshotInterval: Int
        public var snapshotMaxAge: Double
        /// The server path: verify every signature before it is written.
        public var verifySignatures: Bool
        /// The clock every timestamp the engine writes is taken from.
        public var now: @Sendable () -> Date
        /// Told about every group commit of every book (a server's metrics). Must not block.
        public var observeCommit: (@Sendable (CommitReport) -> Void)?

        public init(snapshotInterval: Int = 64, snapshotMaxAge: Double = 1.0, verifySignatures: Bool = false,
                    now: @escaping @Sendable () -> Date = { Date() }, observeCommit: (@Sendable (CommitReport) -> Void)? = nil) {
            self.snapshotInterval = snapshotInterval
            self.snapshotMaxAge = snapshotMaxAge
            self.verifySignatures = verifySignatures
            self.now = now
            self.observeCommit = observeCommit
        }
    }

    public let storage: Storage
    public let options: Options
    public let logger: Logger
    let books: BookRegistry
    /// The g at which ``plan(_:)`` last found each plan id.
    let planIndex = Mutex<[String: Int]>([:])

    public init(storage: Storage, options: Options = Options(), logger: Logger = Logger(label: "logbook")) {
        self.storage = storage
        self.options = options
        self.logger = logger
        self.books = BookRegistry()
    }

    public var journals: any JournalStore { storage.journals }
    public var catalog: any Catalog { storage.catalog }
    public var artifacts: any ArtifactStore { storage.artifacts }
    public var signers: any SignerSource { storage.signers }

    /// The current time as the engine writes it.
    func timestamp() -> String { Timestamp.string(options.now()) }
}
