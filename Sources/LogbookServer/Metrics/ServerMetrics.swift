import CoreMetrics
import LogbookCore
import Metrics

/// What the server counts, through swift-metrics (whatever backend the process bootstrapped;
/// `logbook serve` bootstraps swift-prometheus and exports it at `/metrics`).
///
/// | metric | kind | labels |
/// |---|---|---|
/// | `logbook_events_appended_total` | counter | `plan`, `type` |
/// | `logbook_writes_refused_total` | counter | `code`, `rule` |
/// | `logbook_append_seconds` | histogram | (request to durable acknowledgement) |
/// | `logbook_commit_batch_size` | histogram | (statements per group commit) |
/// | `logbook_commit_seconds` | histogram | (one group commit: fold, exclusion, sync) |
/// | `logbook_fdatasync_seconds` | histogram | (the file store's journal syncs) |
/// | `logbook_sse_streams` | gauge | (open event streams) |
/// | `logbook_sse_events_sent_total` | counter | |
/// | `logbook_verify_total` | counter | `result` (`ok`, `failed`) |
public enum ServerMetrics {
    public static func appended(plan: String, type: EventType) {
        Counter(label: "logbook_events_appended_total", dimensions: [("plan", plan), ("type", type.rawValue)]).increment()
    }

    public static func refused(_ error: LogbookError) {
        Counter(label: "logbook_writes_refused_total", dimensions: [("code", error.code.rawValue), ("rule", error.rule ?? "")]).increment()
    }

    public static func appendLatency(nanoseconds: Int64) {
        Timer(label: "logbook_append_seconds").recordNanoseconds(nanoseconds)
    }

    /// The engine's commit observer (``LogbookCore/StatusBook/Options/observeCommit``): batch
    /// sizes and commit durations.
    public static let observeCommit: @Sendable (CommitReport) -> Void = { report in
        Recorder(label: "logbook_commit_batch_size", aggregate: true).record(report.statements)
        Timer(label: "logbook_commit_seconds").recordNanoseconds(Int64(report.seconds * 1e9))
    }

    static let streams = Meter(label: "logbook_sse_streams")

    public static func streamOpened() { streams.increment() }
    public static func streamClosed() { streams.decrement() }

    public static func eventsSent(_ n: Int) {
        Counter(label: "logbook_sse_events_sent_total").increment(by: n)
    }

    public static func verified(ok: Bool) {
        Counter(label: "logbook_verify_total", dimensions: [("result", ok ? "ok" : "failed")]).increment()
    }
}
