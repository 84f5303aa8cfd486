/// What a writer asks to record. The book fills in seq, prev, ts, g, hash and signature.
///
/// ```swift
/// let r = EventRequest(type: .progress, task: "T3", persona: "CODING_ASSISTANT", data: ["percent": 40])
/// ```
public struct EventRequest: Sendable {
    public var type: EventType
    public var task: String?
    public var persona: String
    public var data: JSONObject
    public var idempotencyKey: String?
    /// Optimistic concurrency: the task's last seq the writer saw; refused if the task moved since.
    public var expectedTaskSeq: Int?
    public var traceID: String?

    public init(type: EventType, task: String?, persona: String, data: JSONObject = JSONObject(),
                idempotencyKey: String? = nil, expectedTaskSeq: Int? = nil, traceID: String? = nil) {
        self.type = type
        self.task = task
        self.persona = persona
        self.data = data
        self.idempotencyKey = idempotencyKey
        self.expectedTaskSeq = expectedTaskSeq
        self.traceID = traceID
    }

    public init(type: EventType, task: String?, persona: String, data: JSONValue) {
        self.init(type: type, task: task, persona: persona, data: data.objectValue ?? JSONObject())
    }
}

/// W3C trace ids (ADR-OS-029): 32 lowercase hex digits, not all zero.
public enum TraceID {
    public static func isValid(_ s: String) -> Bool {
        s.utf8.count == 32 && Hex.decode(s.utf8) != nil && s != String(repeating: "0", count: 32)
    }

    /// The trace id of a `traceparent` header value (`00-<trace id>-<span id>-<flags>`), if valid.
    public static func fromTraceparent(_ header: String) -> String? {
        let parts = header.split(separator: "-")
        guard parts.count == 4, parts[0].utf8.count == 2, isValid(String(parts[1])) else { return nil }
        return String(parts[1])
    }
}
