/// A proof that one event is at its seq in a journal that a signed checkpoint covers, checkable
/// without the journal (only `personas.json` for the checkpoint's signature).
///
/// ```json
/// {"type": "logbook.inclusion_proof.v1", "plan": "EP-1", "seq": 5,
///  "event_hash": "sha256:…", "leaf_hash": "<base64 SHA-256(0x00 ‖ event hash)>",
///  "tree_size": 12, "audit_path": ["<base64>", …], "checkpoint": "logbook/ws-…/EP-1\n12\n…",
///  "event": {…the event as in the journal…}}
/// ```
public struct InclusionProof: Sendable, Equatable {
    public static let type = "logbook.inclusion_proof.v1"

    public var plan: String
    public var seq: Int
    public var eventHash: Digest256
    public var treeSize: Int
    public var auditPath: [Digest256]
    public var checkpoint: Checkpoint
    /// The proven event itself (optional: the proof stands on `event_hash` alone).
    public var event: Event?

    public init(plan: String, seq: Int, eventHash: Digest256, treeSize: Int, auditPath: [Digest256],
                checkpoint: Checkpoint, event: Event?) {
        self.plan = plan
        self.seq = seq
        self.eventHash = eventHash
        self.treeSize = treeSize
        self.auditPath = auditPath
        self.checkpoint = checkpoint
        self.event = event
    }

    /// The RFC 6962 leaf hash: SHA-256(0x00 ‖ 32 event-hash bytes).
    public var leafHash: Digest256 { Merkle.leafHash(eventHash.bytes) }

    public var json: JSONValue {
        var o = JSONObject([
            ("type", .string(Self.type)), ("plan", .string(plan)), ("seq", JSONValue(seq)),
            ("event_hash", .string(eventHash.description)), ("leaf_hash", .string(Base64.encode(leafHash.bytes))),
            ("tree_size", JSONValue(treeSize)), ("audit_path", .array(auditPath.map { .string(Base64.encode($0.bytes)) })),
            ("checkpoint", .string(checkpoint.text)),
        ])
        if let event { o["event"] = event.json }
        return .object(o)
    }

    /// Reads a proof document; every problem names its JSON path.
    public init(json: JSONValue) throws(LogbookError) {
        let r = ProofReader(json, expecting: Self.type)
        try r.checkType()
        plan = try r.string("plan")
        seq = try r.int("seq")
        eventHash = try r.digest("event_hash")
        treeSize = try r.int("tree_size")
        auditPath = try r.hashes("audit_path")
        checkpoint = try r.checkpoint("checkpoint")
        if let e = json["event"], !e.isNull {
            do { event = try Event(json: e) } catch { throw LogbookError(.badInput, "proof: the event is malformed: \(error.message)", path: "event") }
        } else {
            event = nil
        }
        if let lh = json["leaf_hash"] {
            guard let s = lh.stringValue, let b = Base64.decode(s), b == leafHash.bytes else {
                throw LogbookError(.corrupt, "proof: leaf_hash is not SHA-256(0x00 ‖ event_hash)", path: "leaf_hash")
            }
        }
    }

    /// Checks the proof: the checkpoint's signatures against `registry`, that it names this plan,
    /// the event (when present) hashes to `event_hash` at `seq`, and the audit path leads from
    /// the leaf to the checkpoint's root.
    ///
    /// - Returns: the personas that signed the checkpoint.
    /// - Throws: `.badSignature` for the checkpoint's signatures, `.corrupt` for a proof that
    ///   does not hold.
    @discardableResult
    public func verify(registry: PersonaRegistry) throws(LogbookError) -> [Persona] {
        let signers = try checkpoint.verify(registry: registry)
        guard checkpoint.origin.hasSuffix("/" + plan) else {
            throw LogbookError(.corrupt, "proof: the checkpoint's origin \(checkpoint.origin) is not plan \(plan)'s", plan: plan)
        }
        guard treeSize == checkpoint.size else {
            throw LogbookError(.corrupt, "proof: tree_size \(treeSize) differs from the checkpoint's size \(checkpoint.size)", plan: plan)
        }
        if let event {
            guard event.seq == seq, event.plan == plan else {
                throw LogbookError(.corrupt, "proof: the event is seq \(event.seq) of plan \(event.plan), not seq \(seq) of \(plan)", plan: plan)
            }
            guard event.hash == eventHash, event.computedHash == eventHash else {
                throw LogbookError(.corrupt, "proof: the event's content does not hash to event_hash \(eventHash)", plan: plan, seq: seq)
            }
        }
        do {
            try Merkle.verifyInclusion(index: seq, size: treeSize, leafHash: leafHash, proof: auditPath, root: checkpoint.root)
        } catch {
            throw LogbookError(.corrupt, "seq \(seq) is not proven in the checkpoint at size \(treeSize): \(error.message)", plan: plan, seq: seq)
        }
        return signers
    }
}

/// A proof that the journal a newer checkpoint covers extends the one an older checkpoint
/// covers (RFC 6962 §2.1.2), checkable without the journal.
///
/// ```json
/// {"type": "logbook.consistency_proof.v1", "plan": "EP-1", "old_size": 8, "new_size": 12,
///  "consistency_path": ["<base64>", …], "old_checkpoint": "…", "new_checkpoint": "…"}
/// ```
public struct ConsistencyProof: Sendable, Equatable {
    public static let type = "logbook.consistency_proof.v1"

    public var plan: String
    public var old: Checkpoint
    public var new: Checkpoint
    public var path: [Digest256]

    public init(plan: String, old: Checkpoint, new: Checkpoint, path: [Digest256]) {
        self.plan = plan
        self.old = old
        self.new = new
        self.path = path
    }

    public var json: JSONValue {
        .object(JSONObject([
            ("type", .string(Self.type)), ("plan", .string(plan)), ("old_size", JSONValue(old.size)),
            ("new_size", JSONValue(new.size)), ("consistency_path", .array(path.map { .string(Base64.encode($0.bytes)) })),
            ("old_checkpoint", .string(old.text)), ("new_checkpoint", .string(new.text)),
        ]))
    }

    public init(json: JSONValue) throws(LogbookError) {
        let r = ProofReader(json, expecting: Self.type)
        try r.checkType()
        plan = try r.string("plan")
        old = try r.checkpoint("old_checkpoint")
        new = try r.checkpoint("new_checkpoint")
        path = try r.hashes("consistency_path")
        guard try r.int("old_size") == old.size, try r.int("new_size") == new.size else {
            throw LogbookError(.corrupt, "proof: old_size/new_size differ from the checkpoints' sizes (\(old.size), \(new.size))")
        }
    }

    /// Checks both checkpoints' signatures against `registry`, that they name the same plan,
    /// and that the path proves the old tree a prefix of the new one.
    public func verify(registry: PersonaRegistry) throws(LogbookError) {
        try old.verify(registry: registry)
        try new.verify(registry: registry)
        guard old.origin == new.origin, old.origin.hasSuffix("/" + plan) else {
            throw LogbookError(.corrupt, "proof: the checkpoints' origins (\(old.origin), \(new.origin)) are not both plan \(plan)'s", plan: plan)
        }
        do {
            try Merkle.verifyConsistency(oldSize: old.size, newSize: new.size, oldRoot: old.root, newRoot: new.root, proof: path)
        } catch {
            throw LogbookError(.corrupt, "the checkpoints are not consistent (a fork or rewritten history): \(error.message)", plan: plan)
        }
    }
}

/// Reads the fields of a proof document, naming the JSON path of each problem.
struct ProofReader {
    let json: JSONValue
    let expecting: String

    init(_ json: JSONValue, expecting: String) {
        self.json = json
        self.expecting = expecting
    }

    func bad(_ path: String, _ what: String) -> LogbookError {
        LogbookError(.badInput, "proof: expected \(what)", path: path)
    }

    func checkType() throws(LogbookError) {
        guard json.objectValue != nil else { throw bad("$", "an object") }
        guard json["type"]?.stringValue == expecting else {
            throw LogbookError(.badInput, "proof: type is \(json["type"]?.stringValue ?? "missing"), expected \(expecting)", path: "type")
        }
    }

    func string(_ k: String) throws(LogbookError) -> String {
        guard let s = json[k]?.stringValue else { throw bad(k, "a string") }
        return s
    }

    func int(_ k: String) throws(LogbookError) -> Int {
        guard let n = json[k]?.intValue, n >= 0 else { throw bad(k, "a whole number ≥ 0") }
        return n
    }

    func digest(_ k: String) throws(LogbookError) -> Digest256 {
        guard let s = json[k]?.stringValue, let d = Digest256(s) else { throw bad(k, "sha256:<64 hex>") }
        return d
    }

    func hashes(_ k: String) throws(LogbookError) -> [Digest256] {
        guard let list = json[k]?.arrayValue else { throw bad(k, "an array of base64 hashes") }
        var out: [Digest256] = []
        for (i, v) in list.enumerated() {
            guard let s = v.stringValue, let b = Base64.decode(s), b.count == 32 else { throw bad("\(k)[\(i)]", "the base64 of 32 bytes") }
            out.append(Digest256(bytes: b))
        }
        return out
    }

    func checkpoint(_ k: String) throws(LogbookError) -> Checkpoint {
        do { return try Checkpoint(parsing: try string(k)) } catch {
            throw LogbookError(error.code, error.message, path: k)
        }
    }
}
