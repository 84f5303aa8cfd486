/// How the status words of legacy plans map to Logbook's task statuses.
///
/// The comparison ignores case, surrounding spaces, and treats `-` and spaces as `_`, so
/// `"In Progress"`, `"in-progress"` and `"IN_PROGRESS"` are the same word. Anything unknown, and
/// anything that is not a string, maps to `PENDING`; the original value is always kept verbatim
/// in the migrated genesis (`legacy_state`, and `legacy_tasks.<id>.original_status`).
///
/// | legacy word(s) | status |
/// |---|---|
/// | DONE, COMPLETED, COMPLETE, SUCCESS, SUCCEEDED, SUCCESSFUL, FINISHED, PASSED | DONE |
/// | IN_PROGRESS, INPROGRESS, ACTIVE, RUNNING, STARTED, EXECUTING, ONGOING, WORKING | IN_PROGRESS |
/// | FAILED, FAILURE, FAIL, ERROR, ERRORED | FAILED |
/// | BLOCKED | BLOCKED |
/// | WAIVED, SKIPPED | WAIVED |
/// | anything else (PENDING, NOT_STARTED, TODO, …) | PENDING |
public enum LegacyStatus {
    static let table: [String: TaskStatus] = {
        var t: [String: TaskStatus] = [:]
        for w in ["DONE", "COMPLETED", "COMPLETE", "SUCCESS", "SUCCEEDED", "SUCCESSFUL", "FINISHED", "PASSED"] { t[w] = .done }
        for w in ["IN_PROGRESS", "INPROGRESS", "ACTIVE", "RUNNING", "STARTED", "EXECUTING", "ONGOING", "WORKING"] { t[w] = .inProgress }
        for w in ["FAILED", "FAILURE", "FAIL", "ERROR", "ERRORED"] { t[w] = .failed }
        t["BLOCKED"] = .blocked
        for w in ["WAIVED", "SKIPPED"] { t[w] = .waived }
        return t
    }()

    /// The status a legacy status word maps to.
    public static func map(_ raw: String) -> TaskStatus {
        table[normalise(raw)] ?? .pending
    }

    /// The status a legacy status value maps to (non-strings map to PENDING).
    public static func map(_ value: JSONValue) -> TaskStatus {
        value.stringValue.map(map) ?? .pending
    }

    /// Whether the word is one the table knows (PENDING and friends included).
    public static func isRecognised(_ raw: String) -> Bool {
        let n = normalise(raw)
        return table[n] != nil || ["PENDING", "NOT_STARTED", "TODO", "QUEUED", "READY", "NEW", "OPEN"].contains(n)
    }

    static func normalise(_ raw: String) -> String {
        String(raw.trimmingSpaces).uppercased().map { $0 == "-" || $0 == " " ? "_" : $0 }.reduce(into: "") { $0.append($1) }
    }
}
