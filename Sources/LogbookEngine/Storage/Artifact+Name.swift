import LogbookCore

extension Artifact {
    /// The artifact's name as the file backend stores it (docs/FORMAT.md §1), relative to the
    /// workspace folder: `exec_status_<g>.checkpoint`, `exec_status_<g>.checkpoints/<size>.txt`,
    /// `validation_report_<g>.json` / `.md`, `migrated/exec_plan_<g>.premigration.bak` and
    /// `migrated/exec_plan_<g>.state.premigration.bak`. Other backends use it for messages, so a
    /// person looks for the same name everywhere.
    public func standardName(g: Int) -> String {
        switch self {
        case .latestCheckpoint: "exec_status_\(g).checkpoint"
        case .checkpoint(let size): "exec_status_\(g).checkpoints/\(size).txt"
        case .reportJSON: "validation_report_\(g).json"
        case .reportMarkdown: "validation_report_\(g).md"
        case .migrationSource: "migrated/exec_plan_\(g).premigration.bak"
        case .migrationRetryCounters: "migrated/exec_plan_\(g).state.premigration.bak"
        }
    }

    /// The artifacts of a plan other than the checkpoint history, in the order `seal` lists them.
    public static let fixed: [Artifact] = [.latestCheckpoint, .reportJSON, .reportMarkdown, .migrationSource, .migrationRetryCounters]
}
