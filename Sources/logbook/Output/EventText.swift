import LogbookCore
import LogbookEngine

/// One readable line per event. The line is escaped as a whole (``SafeText``): a note, reason,
/// summary or persona name can neither break it into two lines nor send a terminal control.
enum EventText {
    static func line(_ e: Event) -> String {
        let d = e.data
        var what: String
        switch e.type {
        case .progress: what = "\(d["percent"]?.intValue ?? 0) %" + (d["note"]?.stringValue.map { " — \($0)" } ?? "")
        case .testResult:
            what = "\(d["suite"]?.stringValue ?? "?"): \(d["passed"]?.intValue ?? 0) passed, \(d["failed"]?.intValue ?? 0) failed"
                + ((d["skipped"]?.intValue ?? 0) > 0 ? ", \(d["skipped"]!.intValue!) skipped" : "")
        case .blocked, .failed, .reopened, .waived, .unblocked: what = d["reason"]?.stringValue ?? ""
        case .retried: what = "attempt \(e.facts["attempt"]?.intValue ?? 0): \(d["reason"]?.stringValue ?? "")"
        case .done, .achievement: what = d["summary"]?.stringValue ?? ""
        case .lockOverride: what = "\(d["rule"]?.stringValue ?? "?"): \(d["reason"]?.stringValue ?? "")"
        case .created: what = "plan locked, \(d["tasks"]?.arrayValue?.count ?? 0) tasks, digest \(d["plan_digest"]?.stringValue ?? "")"
        case .migrated: what = "plan migrated from a legacy file, \(d["tasks"]?.arrayValue?.count ?? 0) tasks, digest \(d["plan_digest"]?.stringValue ?? "")"
        case .validated: what = d["verdict"]?.stringValue ?? ""
        case .keyChanged: what = "\(d["persona"]?.stringValue ?? "?") now signs with \(d["key_id"]?.stringValue ?? "no key")"
        default: what = ""
        }
        let task = e.task.map { " \($0)" } ?? ""
        let hash = String(e.hash.hex.prefix(12))
        // A statement that arrived late (its agent saw an older head) says by how many events.
        let late = e.lateness.events > 0 ? ", \(e.lateness.events) late" : ""
        return SafeText.escape("seq \(e.seq) \(e.ts) \(e.type.rawValue)\(task) by \(e.persona)\(what.isEmpty ? "" : ": \(what)") [\(hash)\(e.sig == nil ? ", unsigned" : "")\(late)]")
    }
}
