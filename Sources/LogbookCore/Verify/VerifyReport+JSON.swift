extension VerifyReport {
    /// The report as `logbook verify --json` prints it and `GET /v1/plans/{plan}/verify` returns it:
    /// `plan`, `ok`, `events`, `unsigned_events`, `last_seq`, `head_hash`, `warnings`, and when
    /// present `checkpoint` {`size`, `root`} and `failure` {`seq`, `kind`, `message`}.
    public var json: JSONValue {
        var o = JSONObject([("plan", .string(plan)), ("ok", .bool(ok)), ("events", JSONValue(events)),
                            ("unsigned_events", JSONValue(unsigned)), ("last_seq", JSONValue(lastSeq)),
                            ("head_hash", JSONValue(head?.description)), ("warnings", .array(warnings.map { .string($0) }))])
        if let c = checkpoint { o["checkpoint"] = ["size": JSONValue(c.size), "root": .string(Base64.encode(c.root.bytes))] }
        if let f = failure {
            o["failure"] = ["seq": f.seq.map { JSONValue($0) } ?? .null, "kind": .string(f.kind.rawValue), "message": .string(f.message)]
        }
        return .object(o)
    }
}
