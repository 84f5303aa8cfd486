/// What an agent says and signs before it knows where it will land in the journal (envelope v2,
/// docs/FORMAT.md §3–§4): the `stmt` member of an event line.
///
/// The store adds the position (seq, prev, g, ts), the facts it derives and the chain hash; none
/// of those are signed, so signing needs no lock and no knowledge of the head beyond ``seen``.
///
/// ```swift
/// let s = Statement(plan: "EP-1", task: "T1", persona: "DEV", keyID: key.publicKey.keyID, type: .progress,
///                   data: ["percent": 40], at: Timestamp.string(Date()), seen: .init(seq: 7, hash: head))
/// let signed = SignedStatement(s, signer: key)
/// ```
public struct Statement: Sendable, Equatable {
    /// The journal head the agent last saw: `seq` and that event's `hash`. The genesis, which
    /// precedes every event, sees seq -1 and the plan digest.
    public struct Seen: Sendable, Equatable {
        public var seq: Int
        public var hash: Digest256
        public init(seq: Int, hash: Digest256) {
            self.seq = seq
            self.hash = hash
        }
    }

    /// Prefixed to the canonical statement bytes before signing, so a statement signature can
    /// never be taken for a snapshot seal, a checkpoint note or a v1 event signature.
    public static let domain: [UInt8] = Array("logbook statement v2\n".utf8)

    public var plan: String
    public var task: String?
    public var persona: String
    /// The signing key's id; nil for an unsigned statement.
    public var keyID: String?
    public var type: EventType
    public var data: JSONObject
    public var traceID: String?
    public var idempotencyKey: String?
    /// Optimistic concurrency: the task's last seq the agent saw; refused if the task moved since.
    public var expectTaskSeq: Int?
    /// The agent's own time (RFC 3339 UTC), when it made the statement.
    public var at: String
    public var seen: Seen

    public init(plan: String, task: String?, persona: String, keyID: String?, type: EventType, data: JSONObject = JSONObject(),
                traceID: String? = nil, idempotencyKey: String? = nil, expectTaskSeq: Int? = nil, at: String, seen: Seen) {
        self.plan = plan
        self.task = task
        self.persona = persona
        self.keyID = keyID
        self.type = type
        self.data = data
        self.traceID = traceID
        self.idempotencyKey = idempotencyKey
        self.expectTaskSeq = expectTaskSeq
        self.at = at
        self.seen = seen
    }

    /// The statement as JSON (absent optional members are omitted, never null).
    public var json: JSONValue {
        var o = JSONObject()
        o.appendUnchecked("plan", .string(plan))
        if let task { o.appendUnchecked("task", .string(task)) }
        o.appendUnchecked("persona", .string(persona))
        if let keyID { o.appendUnchecked("key_id", .string(keyID)) }
        o.appendUnchecked("type", .string(type.rawValue))
        o.appendUnchecked("data", .object(data))
        if let traceID { o.appendUnchecked("trace_id", .string(traceID)) }
        if let idempotencyKey { o.appendUnchecked("idempotency_key", .string(idempotencyKey)) }
        if let expectTaskSeq { o.appendUnchecked("expect_task_seq", .number(Double(expectTaskSeq))) }
        o.appendUnchecked("at", .string(at))
        o.appendUnchecked("seen", .object(JSONObject([("seq", .number(Double(seen.seq))), ("hash", .string(seen.hash.description))])))
        return .object(o)
    }

    /// The RFC 8785 bytes of the statement: what the line carries verbatim as `stmt`.
    public var canonicalBytes: [UInt8] { CanonicalJSON.bytes(json) }

    /// The bytes an Ed25519 signature covers: ``domain`` followed by `canonical`.
    public static func signingBytes(_ canonical: [UInt8]) -> [UInt8] { domain + canonical }

    /// The members a `stmt` object may have (built once, not per line read).
    static let knownMembers: Set<String> = ["plan", "task", "persona", "key_id", "type", "data", "trace_id", "idempotency_key",
                                  "expect_task_seq", "at", "seen"]

    /// Reads a `stmt` object strictly: unknown or mistyped members are errors.
    public init(json: JSONValue) throws(LogbookError) {
        guard let o = json.objectValue else { throw LogbookError(.corrupt, "stmt: expected an object") }
        func bad(_ field: String, _ what: String) -> LogbookError { LogbookError(.corrupt, "field stmt.\(field): expected \(what)") }
        func str(_ k: String) throws(LogbookError) -> String {
            guard let s = o[k]?.stringValue else { throw bad(k, "a string") }
            return s
        }
        func optStr(_ k: String) throws(LogbookError) -> String? {
            guard let v = o[k] else { return nil }
            guard let s = v.stringValue else { throw bad(k, "a string") }
            return s
        }
        for k in o.keys where !Statement.knownMembers.contains(k) { throw LogbookError(.corrupt, "unknown field stmt.\(k)") }
        plan = try str("plan")
        task = try optStr("task")
        persona = try str("persona")
        keyID = try optStr("key_id")
        guard let t = EventType(rawValue: try str("type")) else { throw bad("type", "a known event type") }
        type = t
        guard let d = o["data"]?.objectValue else { throw bad("data", "an object") }
        data = d
        traceID = try optStr("trace_id")
        idempotencyKey = try optStr("idempotency_key")
        if let v = o["expect_task_seq"] {
            guard let n = v.intValue, n >= 0 else { throw bad("expect_task_seq", "a whole number ≥ 0") }
            expectTaskSeq = n
        } else {
            expectTaskSeq = nil
        }
        at = try str("at")
        guard let s = o["seen"]?.objectValue, s.count == 2, let n = s["seq"]?.intValue, n >= -1,
              let h = s["hash"]?.stringValue.flatMap(Digest256.init) else {
            throw bad("seen", "{\"seq\": a whole number ≥ -1, \"hash\": \"sha256:<64 hex>\"}")
        }
        seen = Seen(seq: n, hash: h)
    }
}

/// A statement with its canonical bytes and (unless unsigned) its Ed25519 signature over
/// `"logbook statement v2\n"` ‖ those bytes: what an agent hands to whoever appends it.
public struct SignedStatement: Sendable, Equatable {
    public let statement: Statement
    /// RFC 8785 bytes of ``statement``: exactly the `stmt` member of the line that records it.
    public let bytes: [UInt8]
    public let sig: [UInt8]?

    /// Signs `statement` with `signer` (nil: unsigned; then its `key_id` must be nil too).
    public init(_ statement: Statement, signer: SigningKey?) {
        let bytes = statement.canonicalBytes
        self.statement = statement
        self.bytes = bytes
        self.sig = signer.map { $0.sign(message: Statement.signingBytes(bytes)) }
    }

    /// A statement signed elsewhere: its bytes must be the canonical form of a valid statement.
    ///
    /// - Throws: `.badInput` naming what is wrong (not canonical, not a statement, a signature
    ///   that is not 64 bytes). The signature itself is checked by whoever appends it.
    public init(bytes: [UInt8], sig: [UInt8]?) throws(LogbookError) {
        let v: JSONValue
        do { v = try JSONParser.parse(bytes) } catch {
            throw LogbookError(.badInput, "the statement is not JSON: \(error.message) (byte \(error.offset))", rule: "statement")
        }
        try self.init(json: v, sig: sig)
        guard self.bytes == bytes else {
            throw LogbookError(.badInput, "the statement bytes are not in RFC 8785 canonical form (sign the canonical bytes)", plan: statement.plan, task: statement.task, rule: "statement")
        }
    }

    /// A statement signed elsewhere and already parsed (a request body's `stmt`, in any member
    /// order): its bytes are its RFC 8785 form, which is what the signature must cover.
    ///
    /// - Throws: `.badInput` naming what is wrong (not a statement, a signature that is not 64
    ///   bytes). The signature itself is checked by whoever appends it.
    public init(json v: JSONValue, sig: [UInt8]?) throws(LogbookError) {
        let s: Statement
        do { s = try Statement(json: v) } catch {
            throw LogbookError(.badInput, "not a statement: \(error.message)", rule: "statement")
        }
        if let sig, sig.count != 64 { throw LogbookError(.badInput, "a signature is 64 bytes, not \(sig.count)", plan: s.plan, task: s.task, rule: "signature") }
        self.statement = s
        self.bytes = CanonicalJSON.bytes(v)
        self.sig = sig
    }

    /// SHA-256 of the statement bytes: two appends of the same statement have the same digest.
    public var digest: Digest256 { Digest256.of(bytes) }

    /// Whether `key` signed exactly these bytes.
    public func isSigned(by key: PublicKey) -> Bool {
        guard let sig else { return false }
        return key.isValid(signature: sig, message: Statement.signingBytes(bytes))
    }
}
