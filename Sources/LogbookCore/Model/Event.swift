/// One line of a status journal: one observed fact about a task or the plan (SPEC §4), in
/// envelope v2 (docs/FORMAT.md §3–§4).
///
/// The line is the RFC 8785 form of `{"v":2, "seq", "prev", "g", "ts", "stmt", "sig"?, "facts"?, "hash"}`.
/// `stmt` is the agent's ``Statement``; `sig` is Ed25519 over `"logbook statement v2\n"` ‖ the
/// RFC 8785 bytes of `stmt` (which the line carries verbatim); `hash` is SHA-256 over the
/// RFC 8785 form of the line object without `hash` (so it covers `sig`, `facts` and the position).
public struct Event: Sendable, Equatable {
    public static let version = 2
    /// The largest event line accepted (genesis events may be larger: they list every task).
    public static let maxLineBytes = 64 * 1024
    public static let maxGenesisLineBytes = 1024 * 1024
    /// The largest note, reason or summary accepted.
    public static let maxTextBytes = 8 * 1024

    // The store's part: position, time, derived facts and the chain hash.
    public var seq: Int
    public var prev: Digest256
    /// The store's time, taken under the journal's exclusion, never before the previous event's.
    public var ts: String
    public var g: Int
    /// What the rules derived when the event was appended (`readiness` of `started`, `attempt`
    /// of `retried`); empty for most events. `verify` recomputes them.
    public var facts: JSONObject
    public var hash: Digest256
    // The agent's part.
    public var stmt: Statement
    public var sig: [UInt8]?

    public init(seq: Int, prev: Digest256, ts: String, g: Int, stmt: Statement, sig: [UInt8]?, facts: JSONObject, hash: Digest256) {
        self.seq = seq
        self.prev = prev
        self.ts = ts
        self.g = g
        self.stmt = stmt
        self.sig = sig
        self.facts = facts
        self.hash = hash
    }

    // The statement's members, as readers of v1 knew them.
    public var plan: String { get { stmt.plan } set { stmt.plan = newValue } }
    public var task: String? { get { stmt.task } set { stmt.task = newValue } }
    public var persona: String { get { stmt.persona } set { stmt.persona = newValue } }
    public var type: EventType { get { stmt.type } set { stmt.type = newValue } }
    public var data: JSONObject { get { stmt.data } set { stmt.data = newValue } }
    public var traceID: String? { get { stmt.traceID } set { stmt.traceID = newValue } }
    public var idempotencyKey: String? { get { stmt.idempotencyKey } set { stmt.idempotencyKey = newValue } }
    public var keyID: String? { get { stmt.keyID } set { stmt.keyID = newValue } }
    public var seen: Statement.Seen { stmt.seen }
    /// The agent's time.
    public var at: String { stmt.at }

    /// How late the statement arrived: events appended between the head its agent saw and this
    /// one (`seq − 1 − seen.seq`; 0 when it saw the previous event), and milliseconds between the
    /// agent's time and the store's (`ts − at`; nil if either does not parse).
    public var lateness: (events: Int, milliseconds: Int64?) {
        let ms: Int64? = Timestamp.parse(ts).flatMap { t in Timestamp.parse(stmt.at).map { t - $0 } }
        return (seq - 1 - stmt.seen.seq, ms)
    }

    /// The bytes the signature covers: the domain prefix and the canonical statement.
    public var signedBytes: [UInt8] { Statement.signingBytes(stmt.canonicalBytes) }

    /// The line object without `hash`: what is hashed.
    public var hashedJSON: JSONValue {
        var o = JSONObject()
        o.appendUnchecked("v", .number(Double(Event.version)))
        o.appendUnchecked("seq", .number(Double(seq)))
        o.appendUnchecked("prev", .string(prev.description))
        o.appendUnchecked("g", .number(Double(g)))
        o.appendUnchecked("ts", .string(ts))
        o.appendUnchecked("stmt", stmt.json)
        if let sig { o.appendUnchecked("sig", .string(Base64.encode(sig))) }
        if !facts.isEmpty { o.appendUnchecked("facts", .object(facts)) }
        return .object(o)
    }

    /// The hash this event should carry, computed from its content.
    public var computedHash: Digest256 {
        Digest256.of(Event.compose(seq: seq, prev: prev, g: g, ts: ts, stmt: stmt.canonicalBytes, sig: sig, facts: facts, hash: nil))
    }

    /// The whole event as JSON.
    public var json: JSONValue {
        guard case .object(var o) = hashedJSON else { return hashedJSON }
        o.appendUnchecked("hash", .string(hash.description))
        return .object(o)
    }

    /// The journal line: RFC 8785 bytes of ``json`` and a newline.
    public var line: [UInt8] {
        var out = Event.compose(seq: seq, prev: prev, g: g, ts: ts, stmt: stmt.canonicalBytes, sig: sig, facts: facts, hash: hash)
        out.append(0x0A)
        return out
    }

    /// The RFC 8785 bytes of a line object, written member by member in RFC 8785 order (facts,
    /// g, hash, prev, seq, sig, stmt, ts, v) with `stmt` copied verbatim; without `hash` when
    /// it is nil (the hashed bytes).
    static func compose(seq: Int, prev: Digest256, g: Int, ts: String, stmt: [UInt8], sig: [UInt8]?, facts: JSONObject,
                        hash: Digest256?) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(stmt.count + 320)
        out.append(0x7B)
        if !facts.isEmpty {
            out.append(contentsOf: #""facts":"#.utf8)
            CanonicalJSON.write(.object(facts), into: &out)
            out.append(0x2C)
        }
        out.append(contentsOf: #""g":"#.utf8)
        out.append(contentsOf: String(g).utf8)
        if let hash {
            out.append(contentsOf: #","hash":""#.utf8)
            out.append(contentsOf: hash.description.utf8)
            out.append(0x22)
        }
        out.append(contentsOf: #","prev":""#.utf8)
        out.append(contentsOf: prev.description.utf8)
        out.append(contentsOf: #"","seq":"#.utf8)
        out.append(contentsOf: String(seq).utf8)
        if let sig {
            out.append(contentsOf: #","sig":""#.utf8)
            out.append(contentsOf: Base64.encode(sig).utf8)
            out.append(0x22)
        }
        out.append(contentsOf: #","stmt":"#.utf8)
        out.append(contentsOf: stmt)
        out.append(contentsOf: #","ts":"#.utf8)
        CanonicalJSON.writeString(ts, into: &out)
        out.append(contentsOf: #","v":2}"#.utf8)
        return out
    }

    /// Places a signed statement at a position: the event, its line (with newline) and nothing
    /// re-serialised (the statement bytes are copied as they were signed).
    public static func placing(_ s: SignedStatement, seq: Int, prev: Digest256, ts: String, g: Int, facts: JSONObject) -> (event: Event, line: [UInt8]) {
        let hashed = compose(seq: seq, prev: prev, g: g, ts: ts, stmt: s.bytes, sig: s.sig, facts: facts, hash: nil)
        let hash = Digest256.of(hashed)
        var line = compose(seq: seq, prev: prev, g: g, ts: ts, stmt: s.bytes, sig: s.sig, facts: facts, hash: hash)
        line.append(0x0A)
        return (Event(seq: seq, prev: prev, ts: ts, g: g, stmt: s.statement, sig: s.sig, facts: facts, hash: hash), line)
    }

    /// Builds, hashes and (when a key is given) signs an event. `seen` defaults to the previous
    /// event (seq − 1, `prev`), which for the genesis is seq -1 and the plan digest; `at` to `ts`.
    public static func make(seq: Int, prev: Digest256, ts: String, g: Int, plan: String, task: String?,
                            persona: String, type: EventType, data: JSONObject,
                            traceID: String? = nil, idempotencyKey: String? = nil, expectTaskSeq: Int? = nil,
                            at: String? = nil, seen: Statement.Seen? = nil, facts: JSONObject = JSONObject(),
                            signer: SigningKey?) -> Event {
        let stmt = Statement(plan: plan, task: task, persona: persona, keyID: signer?.publicKey.keyID, type: type, data: data,
                             traceID: traceID, idempotencyKey: idempotencyKey, expectTaskSeq: expectTaskSeq, at: at ?? ts,
                             seen: seen ?? Statement.Seen(seq: seq - 1, hash: prev))
        return placing(SignedStatement(stmt, signer: signer), seq: seq, prev: prev, ts: ts, g: g, facts: facts).event
    }

    /// The statement as it was signed (its canonical bytes and signature).
    public var signedStatement: SignedStatement {
        SignedStatement(uncheckedBytes: stmt.canonicalBytes, statement: stmt, sig: sig)
    }
}

extension SignedStatement {
    init(uncheckedBytes: [UInt8], statement: Statement, sig: [UInt8]?) {
        self.statement = statement
        self.bytes = uncheckedBytes
        self.sig = sig
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

    /// The members a line may have (built once, not per line read).
    static let knownMembers: Set<String> = ["v", "seq", "prev", "g", "ts", "stmt", "sig", "facts", "hash"]

    public init(json: JSONValue) throws(LogbookError) {
        guard let o = json.objectValue else { throw LogbookError(.corrupt, "an event is a JSON object") }
        func bad(_ field: String, _ what: String) -> LogbookError {
            LogbookError(.corrupt, "field \(field): expected \(what)")
        }
        func str(_ k: String) throws(LogbookError) -> String {
            guard let s = o[k]?.stringValue else { throw bad(k, "a string") }
            return s
        }
        func int(_ k: String) throws(LogbookError) -> Int {
            guard let n = o[k]?.intValue, n >= 0 else { throw bad(k, "a whole number ≥ 0") }
            return n
        }
        for k in o.keys where !Event.knownMembers.contains(k) { throw LogbookError(.corrupt, "unknown field \(k)") }
        guard o["v"]?.intValue == Event.version else { throw bad("v", "envelope version \(Event.version)") }
        seq = try int("seq")
        guard let p = Digest256(try str("prev")) else { throw bad("prev", "sha256:<64 hex>") }
        prev = p
        ts = try str("ts")
        g = try int("g")
        guard let s = o["stmt"] else { throw bad("stmt", "the statement object") }
        stmt = try Statement(json: s)
        if let f = o["facts"] {
            guard let fo = f.objectValue, !fo.isEmpty else { throw bad("facts", "a non-empty object (absent when empty)") }
            facts = fo
        } else {
            facts = JSONObject()
        }
        guard let h = Digest256(try str("hash")) else { throw bad("hash", "sha256:<64 hex>") }
        hash = h
        if let sv = o["sig"] {
            guard let b = sv.stringValue.flatMap(Base64.decode), b.count == 64 else { throw bad("sig", "base64 of a 64-byte Ed25519 signature") }
            sig = b
        } else {
            sig = nil
        }
    }
}

extension Event {
    /// Where the `stmt` member's value lies in a canonical line: the signed bytes, found by a
    /// scan of the top-level members (no re-serialisation). Nil when there is no such member.
    public static func statementRange(in line: [UInt8]) -> Range<Int>? {
        topLevelValueRange(of: Array("stmt".utf8), in: line)
    }

    /// The line without its `hash` member: the hashed bytes of a canonical line.
    static func removingHashMember(_ line: [UInt8]) -> [UInt8]? {
        guard let r = topLevelValueRange(of: Array("hash".utf8), in: line) else { return nil }
        // `"hash":` is preceded by `,` (g always precedes it) and followed by `,` (prev follows).
        let start = r.lowerBound - #""hash":"#.utf8.count
        guard start > 0, line[start - 1] == 0x2C else { return nil }
        var out = Array(line[..<(start - 1)])
        out.append(contentsOf: line[r.upperBound...])
        return out
    }

    /// The byte range of the value of top-level member `key` of a JSON object (member names are
    /// the envelope's own, which need no escapes).
    static func topLevelValueRange(of key: [UInt8], in h: [UInt8]) -> Range<Int>? {
        var depth = 0, inString = false, escaped = false
        var i = 0
        var valueStart: Int?
        while i < h.count {
            let b = h[i]
            if inString {
                if escaped { escaped = false } else if b == 0x5C { escaped = true } else if b == 0x22 { inString = false }
                i += 1
                continue
            }
            if let s = valueStart, depth == 1, b == 0x2C || b == 0x7D {
                return s..<i
            }
            if depth == 1, valueStart == nil, b == 0x22, i > 0, h[i - 1] == 0x7B || h[i - 1] == 0x2C {
                var j = i + 1
                while j < h.count, h[j] != 0x22 { j += 1 }
                if h[(i + 1)..<j].elementsEqual(key), j + 1 < h.count, h[j + 1] == 0x3A {
                    valueStart = j + 2
                    i = j + 2
                    continue
                }
            }
            switch b {
            case 0x7B, 0x5B: depth += 1
            case 0x7D, 0x5D: depth -= 1
            case 0x22: inString = true
            default: break
            }
            i += 1
        }
        return nil
    }
}
