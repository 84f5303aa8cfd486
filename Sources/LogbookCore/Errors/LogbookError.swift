/// Every failure Logbook reports: a stable code, a message, and the context that locates it.
///
/// The CLI, HTTP and MCP layers map these in one place each; the `description` is the one line
/// a person or an agent sees, for example
/// `plan EP-1, task T3: refused (rule dependencies_done): dependency T2 is IN_PROGRESS, not DONE`.
public struct LogbookError: Error, Sendable, CustomStringConvertible, Equatable {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// Input that is not well-formed (JSON, ids, numbers, sizes).
        public static let badInput = Code(rawValue: "bad_input")
        /// Something named does not exist (plan, task, persona, workspace).
        public static let notFound = Code(rawValue: "not_found")
        /// A status event that the rules of SPEC §4 refuse.
        public static let refused = Code(rawValue: "refused")
        /// A persona that may not write this event.
        public static let forbidden = Code(rawValue: "forbidden")
        /// A missing or invalid signature, or an unknown key.
        public static let badSignature = Code(rawValue: "bad_signature")
        public static let badKey = Code(rawValue: "bad_key")
        /// The task moved since the seq the writer said it saw.
        public static let conflict = Code(rawValue: "conflict")
        /// The plan is locked and cannot change, or is not locked yet.
        public static let locked = Code(rawValue: "locked")
        public static let notLocked = Code(rawValue: "not_locked")
        public static let alreadyExists = Code(rawValue: "already_exists")
        /// The plan's validation failed (paths in the message).
        public static let invalidPlan = Code(rawValue: "invalid_plan")
        /// Stored data is damaged (found by reading or by `verify`).
        public static let corrupt = Code(rawValue: "corrupt")
        /// The operating system refused (disk full, I/O error, permissions).
        public static let io = Code(rawValue: "io")
        /// The write's outcome is not known: the bytes were written but making them durable
        /// failed (a failed `fdatasync`). Nothing was acknowledged and the store never shows
        /// the event, but a crash may still have kept it on disk, so a retry must reuse the same
        /// idempotency key: it then returns the event if it did land, or appends it once.
        public static let indeterminate = Code(rawValue: "indeterminate")
        /// The environment cannot keep Logbook's promises (a workspace on a network file system).
        public static let unsupported = Code(rawValue: "unsupported")
        /// A command line that does not parse (unknown verb or option, missing or malformed value).
        public static let usage = Code(rawValue: "usage")
        /// The server could not be reached, or stopped answering (exit 10). For a write the
        /// outcome is unknown: resend the same signed statement (it is recorded once), or keep
        /// it in the outbox (`--outbox`).
        public static let unavailable = Code(rawValue: "unavailable")
        /// A wait that ran out of time (`task wait --timeout`, exit 12).
        public static let timeout = Code(rawValue: "timeout")
        /// A request without the read token a server requires, or with a wrong one (HTTP 401).
        public static let unauthorized = Code(rawValue: "unauthorized")
        /// A request body over the server's limit (HTTP 413).
        public static let tooLarge = Code(rawValue: "too_large")
        /// A request body that is not `application/json` (HTTP 415).
        public static let unsupportedMediaType = Code(rawValue: "unsupported_media_type")
    }

    public var code: Code
    public var message: String
    public var plan: String?
    public var task: String?
    public var seq: Int?
    public var rule: String?
    public var path: String?
    /// Structured facts a script needs without parsing the message, for example a readiness
    /// refusal's `unmet_dependencies` or a conflict's `actual_seq` and `expected_seq`.
    /// Rendered as further members of the error object (``json``).
    public var facts: JSONObject

    public init(_ code: Code, _ message: String, plan: String? = nil, task: String? = nil, seq: Int? = nil,
                rule: String? = nil, path: String? = nil, facts: JSONObject = JSONObject()) {
        self.code = code
        self.message = message
        self.plan = plan
        self.task = task
        self.seq = seq
        self.rule = rule
        self.path = path
        self.facts = facts
    }

    public var description: String {
        var where_: [String] = []
        if let plan { where_.append("plan \(plan)") }
        if let task { where_.append("task \(task)") }
        if let seq { where_.append("seq \(seq)") }
        if let path { where_.append("at \(path)") }
        var s = where_.isEmpty ? "" : where_.joined(separator: ", ") + ": "
        if let rule { s += "refused (rule \(rule)): " }
        return s + message
    }

    /// Adds context a lower layer did not know.
    public func with(plan: String? = nil, task: String? = nil) -> LogbookError {
        var e = self
        if e.plan == nil { e.plan = plan }
        if e.task == nil { e.task = task }
        return e
    }
}

extension LogbookError {
    /// The error for bytes that were written but could not be made durable (a failed sync).
    ///
    /// - Parameters:
    ///   - what: the file or table, as the message names it.
    ///   - cause: the system's own words for the failure.
    public static func indeterminate(_ what: String, _ cause: String, plan: String?) -> LogbookError {
        LogbookError(.indeterminate, "\(what): \(cause); the events were written but not made durable, so they were not acknowledged and will not be shown; whether they survive a crash is unknown, so retry with the same idempotency key (a retry returns the event if it landed, or appends it once)", plan: plan)
    }
}
