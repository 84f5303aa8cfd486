/// The `data` each event type carries (SPEC §4), checked field by field.
public enum EventData {
    /// Text fields limited to ``Event/maxTextBytes``.
    static let textFields: Set<String> = ["note", "reason", "summary", "details", "artifact", "suite"]
    /// A lease (`started` with `lease_seconds`): from 5 seconds to one day.
    public static let leaseRange = 5...86_400

    public static func check(_ type: EventType, _ d: JSONObject, plan: String, task: String?) throws(LogbookError) {
        func bad(_ msg: String, rule: String? = nil) -> LogbookError {
            LogbookError(.badInput, msg, plan: plan, task: task, rule: rule)
        }
        for (k, v) in d {
            if textFields.contains(k), let s = v.stringValue, s.utf8.count > Event.maxTextBytes {
                throw bad("\(k) is \(s.utf8.count) bytes; the limit is \(Event.maxTextBytes) bytes", rule: "size_limit")
            }
        }
        func requireText(_ k: String) throws(LogbookError) {
            guard let s = d[k]?.stringValue, !s.trimmingSpaces.isEmpty else { throw bad("\(type.rawValue) needs a non-empty \(k)") }
        }
        func optionalText(_ k: String) throws(LogbookError) {
            if let v = d[k], v.stringValue == nil { throw bad("\(k) must be a string") }
        }
        func count(_ k: String, required: Bool) throws(LogbookError) {
            guard let v = d[k] else {
                if required { throw bad("\(type.rawValue) needs \(k)") }
                return
            }
            guard let n = v.intValue, n >= 0, n <= 1_000_000_000 else { throw bad("\(k) must be a whole number from 0 to 1000000000") }
        }
        switch type {
        case .progress:
            guard let p = d["percent"] else { throw bad("progress needs percent") }
            guard let n = p.intValue, (0...100).contains(n) else {
                throw bad("percent must be a whole number from 0 to 100, got \(CanonicalJSON.string(p).prefix(24))", rule: "percent_range")
            }
            try optionalText("note")
        case .testResult:
            try requireText("suite")
            try count("passed", required: true)
            try count("failed", required: true)
            try count("skipped", required: false)
            try optionalText("artifact")
        case .blocked, .failed, .reopened, .waived, .requeued:
            try requireText("reason")
        case .heartbeat:
            try optionalText("note")
            for k in d.keys where k != "note" { throw bad("heartbeat carries only an optional note, not \(k)") }
        case .unblocked:
            try optionalText("reason")
        case .retried:
            try requireText("reason")
            try count("attempt", required: false)  // v2: the store records it in facts
        case .done:
            try optionalText("summary")
            if let o = d["outputs"], o.arrayValue == nil { throw bad("outputs must be an array") }
        case .achievement:
            try requireText("summary")
            try optionalText("artifact")
        case .lockOverride:
            try requireText("reason")
            let rules = task == nil ? ["validation_criteria"] : ["dependencies_done", "max_retries"]
            guard let r = d["rule"]?.stringValue, rules.contains(r) else {
                throw bad("lock_override needs rule " + rules.map { "\"\($0)\"" }.joined(separator: " or "))
            }
        case .keyChanged:
            guard let p = d["persona"]?.stringValue, Identifier.isValid(p) else { throw bad("key_changed needs a persona id") }
            guard d["role"]?.stringValue.flatMap(PersonaRole.init(rawValue:)) != nil else { throw bad("key_changed needs role worker or supervisor") }
            guard let a = d["archetype"]?.stringValue, Identifier.isValid(a) else { throw bad("key_changed needs an archetype") }
            if let k = d["key_id"], !k.isNull, k.stringValue == nil { throw bad("key_id must be a string or null") }
        case .validated:
            guard let v = d["verdict"]?.stringValue, ["PASS", "FAIL", "PASS_WITH_REMEDIATION"].contains(v) else {
                throw bad("validated needs verdict PASS, FAIL or PASS_WITH_REMEDIATION")
            }
            guard d["criteria"]?.arrayValue != nil else { throw bad("validated needs the criteria results") }
            try optionalText("note")
        case .frozen:
            guard let h = d["head"]?.stringValue, Digest256(h) != nil else { throw bad("frozen needs the head hash it freezes") }
        case .started:
            if let l = d["lease_seconds"] {
                guard let n = l.intValue, (EventData.leaseRange).contains(n) else {
                    throw bad("lease_seconds must be a whole number of seconds from \(EventData.leaseRange.lowerBound) to \(EventData.leaseRange.upperBound), got \(CanonicalJSON.string(l).prefix(24))", rule: "lease")
                }
            }
        case .created, .migrated, .validationStarted, .archived:
            break
        }
    }
}

extension String {
    var trimmingSpaces: Substring {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return s
    }
}
