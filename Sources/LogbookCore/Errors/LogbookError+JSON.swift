extension LogbookError.Code {
    /// The process exit code of the CLI for this code (the README's table). HTTP and MCP carry
    /// the same number in their error objects so one script handles all three.
    ///
    /// 0 ok · 1 internal error · 2 bad input or usage · 3 refused by a rule · 4 not found ·
    /// 5 signature or key · 6 verification failed or data damaged · 7 I/O · 8 unsupported
    /// environment (a workspace on a network file system) · 9 indeterminate (a write whose
    /// durability is unknown: retry with the same idempotency key) · 10 server unreachable · 11 queued (in the outbox, not yet recorded) · 12 a wait timed out.
    public var exitCode: Int32 {
        switch self {
        case .badInput, .invalidPlan, .usage, .tooLarge, .unsupportedMediaType: 2
        case .refused, .forbidden, .conflict, .locked, .notLocked, .alreadyExists: 3
        case .notFound: 4
        case .badSignature, .badKey, .unauthorized: 5
        case .corrupt: 6
        case .io: 7
        case .unsupported: 8
        case .indeterminate: 9
        case .unavailable: 10
        case .timeout: 12
        default: 1
        }
    }
}

extension LogbookError {
    /// The members every error object carries, in this order, `null` when not known.
    public static let jsonFields = ["exit", "code", "rule", "plan", "task", "seq", "path", "message"]

    /// The error as one JSON object, the same for the CLI (`--json`, on stderr), HTTP and MCP:
    ///
    /// ```json
    /// {"error": {"exit": 3, "code": "refused", "rule": "dependencies_done", "plan": "EP-1",
    ///            "task": "T2", "seq": null, "path": null,
    ///            "message": "dependency T1 is IN_PROGRESS, not DONE",
    ///            "unmet_dependencies": [{"task_id": "T1", "status": "IN_PROGRESS"}]}}
    /// ```
    ///
    /// `message` is the exact text (no location prefix: that is in the other members); the
    /// ``facts`` follow as further members. A fact never replaces one of ``jsonFields``.
    public var json: JSONValue {
        var o = JSONObject([
            ("exit", JSONValue(Int(code.exitCode))), ("code", .string(code.rawValue)), ("rule", JSONValue(rule)),
            ("plan", JSONValue(plan)), ("task", JSONValue(task)), ("seq", seq.map { JSONValue($0) } ?? .null),
            ("path", JSONValue(path)), ("message", .string(message)),
        ])
        for (k, v) in facts where o[k] == nil { o[k] = v }
        return .object(JSONObject([("error", .object(o))]))
    }
}
