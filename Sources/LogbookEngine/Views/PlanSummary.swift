import LogbookCore

extension LogbookEngine {
    /// One plan as `plan list` and `GET /v1/plans` show it.
    public struct PlanSummary: Sendable {
        public var file: PlanFile
        /// DRAFT, or the status's lifecycle (ACTIVE, VALIDATING, FROZEN, ARCHIVED); UNREADABLE
        /// when the status cannot be read (`error` says why; `logbook verify` tells more).
        public var lifecycle: String
        public var current: Bool
        /// The status's completion in percent (nil for a DRAFT or an unreadable status).
        public var completion: Double?
        /// The journal's head: seq and chain hash (nil for a DRAFT or an unreadable status).
        public var head: (seq: Int, hash: Digest256)?
        public var error: String?
        /// Tasks by status, open blockers, tasks flagged stale now, and the time of the head
        /// event (nil for a DRAFT or an unreadable status).
        public var taskCounts: JSONValue?
        public var blockers: Int?
        public var stale: Int?
        public var lastActivity: String?

        public init(file: PlanFile, lifecycle: String, current: Bool, completion: Double? = nil,
                    head: (seq: Int, hash: Digest256)? = nil, error: String? = nil) {
            self.file = file
            self.lifecycle = lifecycle
            self.current = current
            self.completion = completion
            self.head = head
            self.error = error
        }

        /// The summary as one element of `plan list --json` and `GET /v1/plans`: `plan_id`, `g`,
        /// `plan_file`, `status_id`, `lifecycle`, `current`, `tasks`, `v_file_instance`,
        /// `plan_digest`, `completion`, `head_seq`, `head_hash` (null where they do not apply),
        /// `task_counts`, `blockers`, `stale`, `last_activity`, and `error` when the status could
        /// not be read.
        public var json: JSONValue {
            let f = file
            var o: JSONObject = [
                "plan_id": .string(f.id), "g": JSONValue(f.g), "plan_file": .string(f.name),
                "status_id": f.document.isLocked ? .string(f.journalRef.statusID) : .null,
                "lifecycle": .string(lifecycle), "current": .bool(current),
                "tasks": JSONValue(f.document.payload["tasks"]?.arrayValue?.count ?? 0),
                "v_file_instance": JSONValue(f.document.header["v_file_instance"]?.intValue ?? 1),
                "plan_digest": f.document.isLocked ? .string(f.document.digest.description) : .null,
                "completion": completion.map { .number($0) } ?? .null,
                "head_seq": head.map { JSONValue($0.seq) } ?? .null,
                "head_hash": head.map { .string($0.hash.description) } ?? .null,
                "task_counts": taskCounts ?? .null,
                "blockers": blockers.map { JSONValue($0) } ?? .null,
                "stale": stale.map { JSONValue($0) } ?? .null,
                "last_activity": JSONValue(lastActivity),
            ]
            if let error { o["error"] = .string(error) }
            return .object(o)
        }
    }
}
