/// One line of a status journal: one observed fact about a task or the plan (SPEC §4).
///
/// The line on disk is the RFC 8785 form of the whole event. `hash` is SHA-256 over the RFC 8785
/// form of the event without `hash` and `sig`; `sig` is Ed25519 over the 32 raw bytes of `hash`.
public struct Event: Sendable, Equatable {
    public static let version = 1
    /// The largest event line accepted (genesis events may be larger: they list every task).
    public static let maxLineBytes = 64 * 1024
    public static let maxGenesisLineBytes = 1024 * 1024
    /// The largest note, reason or summary accepted.
    public static let maxTextBytes = 8 * 1024

    public var seq: Int
    public var prev: Digest256
    public var ts: String
    public var g: Int
    public var plan: String
    public var task: String?
    public var persona: String
    public var archetype: String?
    public var type: EventType
    public var data: JSONObject
    public var traceID: String?
    public var idempotencyKey: String?
    public var keyID: String?
    public var hash: Digest256
    public var sig: [UInt8]?

    /// The object that is hashed: every field but `hash` and `sig`.
    public var hashedJSON: JSONValue {
        var o = JSONObject()
        o.appendUnchecked("v", .number(Double(Event.version)))
        o.appendUnchecked("seq", .number(Double(seq)))
        o.appendUnchecked("prev", .string(prev.description))
        o.appendUnchecked("ts", .string(ts))
        o.appendUnchecked("g", .number(Double(g)))
        o.appendUnchecked("plan", .string(plan))
        if let task { o.appendUnchecked("task", .string(task)) }
        o.appendUnchecked("persona", .string(persona))
        if let archetype { o.appendUnchecked("archetype", .string(archetype)) }
        o.appendUnchecked("type", .string(type.rawValue))
        o.appendUnchecked("data", .object(data))
        if let traceID { o.appendUnchecked("trace_id", .string(traceID)) }
        if let idempotencyKey { o.appendUnchecked("idempotency_key", .string(idempotencyKey)) }
        if let keyID { o.appendUnchecked("key_id", .string(keyID)) }
        return .object(o)
    }

    /// The hash this event should carry, computed from its content.
    public var computedHash: Digest256 { Digest256.canonical(hashedJSON) }

    /// The whole event as JSON.
    public var json: JSONValue {
        guard case .object(var o) = hashedJSON else { return hashedJSON }
        o.appendUnchecked("hash", .string(hash.description))
        if let sig { o.appendUnchecked("sig", .string(Base64.encode(sig))) }
        return .object(o)
    }

    /// The journal line: RFC 8785 bytes of ``json`` and a newline.
    public var line: [UInt8] {
        var out = CanonicalJSON.bytes(json)
        out.append(0x0A)
        return out
    }

    /// Builds, hashes and (when a key is given) signs an event.
    public static func make(seq: Int, prev: Digest256, ts: String, g: Int, plan: String, task: String?,
                            persona: String, archetype: String?, type: EventType, data: JSONObject,
                            traceID: String? = nil, idempotencyKey: String? = nil, signer: SigningKey?) -> Event {
        var e = Event(seq: seq, prev: prev, ts: ts, g: g, plan: plan, task: task, persona: persona, archetype: archetype,
                      type: type, data: data, traceID: traceID, idempotencyKey: idempotencyKey,
                      keyID: signer?.publicKey.keyID, hash: Digest256(bytes: [UInt8](repeating: 0, count: 32)), sig: nil)
        e.hash = e.computedHash
        if let signer { e.sig = signer.sign(e.hash) }
        return e
    }
}

extension Event {
    /// Parses one journal line (without its newline), strictly: unknown or mistyped fields are errors.
    public init(line: UnsafeBufferPointer<UInt8>) throws(LogbookError) {
        let v: JSONValue
        do { v = try JSONParser.parse(line) } catch {
            throw LogbookError(.corrupt, "not a JSON event: \(error.message) (byte \(error.offset))")
        }
        try self.init(json: v)
    }

    public init(line: [UInt8]) throws(LogbookError) {
        var result: Result<Event, LogbookError>!
        line.withUnsafeBufferPointer { buf in
            do throws(LogbookError) { result = .success(try Event(line: buf)) } catch { result = .failure(error) }
        }
        self = try result.get()
    }

    public init(json: JSONValue) throws(LogbookError) {
        guard let o = json.objectValue else { throw LogbookError(.corrupt, "an event is a JSON object") }
        func bad(_ field: String, _ what: String) -> LogbookError {
            LogbookError(.corrupt, "field \(field): expected \(what)")
        }
        func str(_ k: String) throws(LogbookError) -> String {
            guard let s = o[k]?.stringValue else { throw bad(k, "a string") }
            return s
        }
        func optStr(_ k: String) throws(LogbookError) -> String? {
            guard let v = o[k] else { return nil }
            guard let s = v.stringValue else { throw bad(k, "a string") }
            return s
        }
        func int(_ k: String) throws(LogbookError) -> Int {
            guard let n = o[k]?.intValue, n >= 0 else { throw bad(k, "a whole number ≥ 0") }
            return n
        }
        let known: Set<String> = ["v", "seq", "prev", "ts", "g", "plan", "task", "persona", "archetype", "type", "data",
                                  "trace_id", "idempotency_key", "key_id", "hash", "sig"]
        for k in o.keys where !known.contains(k) { throw LogbookError(.corrupt, "unknown field \(k)") }
        guard o["v"]?.intValue == Event.version else { throw bad("v", "envelope version \(Event.version)") }
        seq = try int("seq")
        guard let p = Digest256(try str("prev")) else { throw bad("prev", "sha256:<64 hex>") }
        prev = p
        ts = try str("ts")
        g = try int("g")
        plan = try str("plan")
        task = try optStr("task")
        persona = try str("persona")
        archetype = try optStr("archetype")
        guard let t = EventType(rawValue: try str("type")) else { throw bad("type", "a known event type") }
        type = t
        guard let d = o["data"]?.objectValue else { throw bad("data", "an object") }
        data = d
        traceID = try optStr("trace_id")
        idempotencyKey = try optStr("idempotency_key")
        keyID = try optStr("key_id")
        guard let h = Digest256(try str("hash")) else { throw bad("hash", "sha256:<64 hex>") }
        hash = h
        if let s = try optStr("sig") {
            guard let b = Base64.decode(s), b.count == 64 else { throw bad("sig", "base64 of a 64-byte Ed25519 signature") }
            sig = b
        } else {
            sig = nil
        }
    }
}
