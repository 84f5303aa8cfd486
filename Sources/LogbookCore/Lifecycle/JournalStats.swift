/// What a Validation Report needs beyond the final state, gathered in one pass over the journal.
public struct JournalStats: Sendable {
    public var byType: [String: Int] = [:]
    public var byPersona: [String: Int] = [:]
    public var unsigned = 0
    /// Personas that wrote each task's events.
    public var taskPersonas: [String: [String]] = [:]
    /// Every block and its resolution.
    public var blockers: [JSONValue] = []
    var openBlocks: [String: Int] = [:]  // task → index in `blockers`
    public var validation: JSONValue = .null

    public init() {}

    public mutating func add(_ e: Event) {
        byType[e.type.rawValue, default: 0] += 1
        byPersona[e.persona, default: 0] += 1
        if e.sig == nil { unsigned += 1 }
        guard let task = e.task else {
            if e.type == .validated { validation = .object(e.data) }
            return
        }
        if !(taskPersonas[task]?.contains(e.persona) ?? false) { taskPersonas[task, default: []].append(e.persona) }
        switch e.type {
        case .blocked:
            openBlocks[task] = blockers.count
            blockers.append(["task_id": .string(task), "reason": e.data["reason"] ?? .null, "blocked_seq": JSONValue(e.seq),
                             "blocked_by": .string(e.persona), "blocked_ts": .string(e.ts), "resolved_seq": .null, "resolution": .null])
        case .unblocked, .waived:
            if let i = openBlocks.removeValue(forKey: task), var o = blockers[i].objectValue {
                o["resolved_seq"] = JSONValue(e.seq)
                o["resolution"] = .string(e.type == .waived ? "waived" : (e.data["reason"]?.stringValue ?? "unblocked"))
                blockers[i] = .object(o)
            }
        default:
            break
        }
    }
}
