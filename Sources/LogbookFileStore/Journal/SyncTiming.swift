import Dispatch
import LogbookCore
import Metrics

/// The journal's `fdatasync` latency, as the histogram `logbook_fdatasync_seconds` of whatever
/// metrics backend the process bootstrapped (swift-metrics; `logbook serve` exports it at
/// `/metrics`). Without a backend it costs a clock reading.
enum SyncTiming {
    static let label = "logbook_fdatasync_seconds"

    static func timed(_ body: () throws(LogbookError) -> Void) throws(LogbookError) {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { Timer(label: label).recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - start)) }
        try body()
    }
}
