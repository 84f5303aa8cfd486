import LogbookCore

/// A document a plan's status produces besides its journal: checkpoints and the Validation
/// Report. Files keep each in its own file (docs/FORMAT.md §1); PostgreSQL in a table.
public enum Artifact: Hashable, Sendable, CustomStringConvertible {
    /// The latest supervisor-signed checkpoint (`exec_status_<g>.checkpoint`).
    case latestCheckpoint
    /// The checkpoint of tree size `size` in the history (`exec_status_<g>.checkpoints/<size>.txt`).
    case checkpoint(size: Int)
    /// The Validation Report (`validation_report_<g>.json` / `.md`).
    case reportJSON
    case reportMarkdown
    /// The source bytes a migration read (`migrated/exec_plan_<g>.premigration.bak`) and its
    /// legacy retry counters (`….state.premigration.bak`).
    case migrationSource
    case migrationRetryCounters

    public var description: String {
        switch self {
        case .latestCheckpoint: "latest checkpoint"
        case .checkpoint(let n): "checkpoint of size \(n)"
        case .reportJSON: "Validation Report (JSON)"
        case .reportMarkdown: "Validation Report (Markdown)"
        case .migrationSource: "migration source backup"
        case .migrationRetryCounters: "migration retry-counter backup"
        }
    }
}

/// Stores a plan's artifacts. Whole documents only: a reader sees the old bytes or the new,
/// never a mix.
public protocol ArtifactStore: Sendable {
    /// The stored bytes, or nil when there are none.
    func load(_ artifact: Artifact, of ref: JournalRef) async throws -> [UInt8]?

    /// Stores `bytes`, replacing what was there (durably, before returning).
    func store(_ artifact: Artifact, of ref: JournalRef, _ bytes: [UInt8]) async throws

    /// The sizes of the checkpoints in the history, ascending.
    func checkpointSizes(of ref: JournalRef) async throws -> [Int]

    /// Runs `body` excluding every other writer of this plan's checkpoints, in any process.
    func exclusive<T>(checkpointsOf ref: JournalRef, _ body: () async throws -> T) async throws -> T

    /// Makes every artifact of the plan read-only (archive). Returns the names it sealed.
    func seal(_ ref: JournalRef) async throws -> [String]

    /// The name a person would look for (a file name, a table row), for messages.
    func name(of artifact: Artifact, _ ref: JournalRef) -> String
}
