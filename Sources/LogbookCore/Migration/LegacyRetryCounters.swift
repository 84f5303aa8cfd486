/// The `rt` retry counters of a legacy `state.txt` (`payload.rt`, or a top-level `rt`).
///
/// Two forms are read: task id → count (`{"T1": 2}`), and plan id → {task id → count}
/// (`{"EP-7": {"T1": 2}}`). A plan-scoped entry wins over a bare task id.
public struct LegacyRetryCounters: Sendable, Equatable {
    public var sourceName: String
    public var sourceDigest: Digest256
    /// Where the counters sit in the state file: `payload.rt` or `rt`.
    public var base: JSONPath
    public var counters: JSONObject
    /// The state file's bytes (the workspace keeps a backup of them beside the plan's).
    public var sourceBytes: [UInt8]

    public init(sourceName: String, sourceDigest: Digest256, base: JSONPath, counters: JSONObject, sourceBytes: [UInt8] = []) {
        self.sourceName = sourceName
        self.sourceDigest = sourceDigest
        self.base = base
        self.counters = counters
        self.sourceBytes = sourceBytes
    }

    /// Reads a legacy state.txt; a file that is not JSON gets line and column, one without
    /// `rt` is refused (pass `--state` only with a state that carries retry counters).
    public init(bytes: [UInt8], name: String) throws(LogbookError) {
        let json = try LegacyMigration.parseSource(bytes, name: name)
        let base: JSONPath
        if json["payload"]?["rt"] != nil { base = JSONPath([.key("payload"), .key("rt")]) }
        else if json["rt"] != nil { base = JSONPath([.key("rt")]) }
        else { throw LogbookError(.badInput, "\(name): no retry counters (expected an object at payload.rt or rt)") }
        let rt = json.value(at: base)!
        guard let o = rt.objectValue else {
            throw LogbookError(.badInput, "\(name): \(base) must be an object of task id → retry count, found \(rt.kindName)")
        }
        self.init(sourceName: name, sourceDigest: .of(bytes), base: base, counters: o, sourceBytes: bytes)
    }

    /// The counter for `task` of `plan`, with its path in the state file.
    public func lookup(plan: String, task: String) -> (path: JSONPath, value: JSONValue)? {
        if let scoped = counters[plan]?.objectValue, let v = scoped[task] {
            return (base.appending(plan).appending(task), v)
        }
        if let v = counters[task], v.objectValue == nil {
            return (base.appending(task), v)
        }
        return nil
    }
}
