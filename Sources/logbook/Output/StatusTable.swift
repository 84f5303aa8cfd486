import Foundation
import LogbookCore
import LogbookEngine

/// The status as a table with progress bars, counts, completion, blockers and stale tasks (a
/// lease that ran out by `now`: derived, see docs/SUPERVISION.md). Titles and
/// reasons are user text: escaped (``SafeText``) before they are placed; the table's own colour
/// codes are the only control sequences it prints.
enum StatusTable {
    static func render(_ s: StatusState, titles: [String: String], color: Bool, width: Int = 24, now: Date = Date()) -> String {
        var out = ""
        let c = Colors(on: color)
        out += c.bold("plan \(s.plan.id)") + "  seq \(s.seq)  \(s.lifecycle.rawValue)  \(format(s.completion)) % complete\n"
        for t in s.tasks {
            let pct = t.effectivePercent
            let filled = pct * width / 100
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            let status = t.status.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)
            let title = SafeText.escape(String((titles[t.id] ?? "").prefix(32)))
            var extra = ""
            if t.attempts > 0 { extra += "  retry \(t.attempts)" }
            if t.testsPassed + t.testsFailed > 0 { extra += "  tests \(t.testsPassed)✓ \(t.testsFailed)✗" }
            if let r = t.blockReason { extra += "  ⛔ \(SafeText.escape(String(r.prefix(40))))" }
            if t.isStale(at: now) { extra += "  " + c.wrap("1;31", "STALE") + " (\(SafeText.escape(t.owner ?? "?")) quiet \(DurationText.describe(t.quietSeconds(at: now) ?? 0)))" }
            out += "  \(t.id.padding(toLength: 8, withPad: " ", startingAt: 0)) \(c.status(t.status, status)) \(c.status(t.status, bar)) \(String(pct).leftPad(3)) %  \(title)\(extra)\n"
        }
        let counts = TaskStatus.allCases.compactMap { st -> String? in
            let n = s.count(st)
            return n == 0 ? nil : "\(n) \(st.rawValue)"
        }
        let passed = s.tasks.reduce(0) { $0 + $1.testsPassed }, failed = s.tasks.reduce(0) { $0 + $1.testsFailed }
        out += "  \(counts.joined(separator: ", "))  ·  tests \(passed) passed, \(failed) failed  ·  retries \(s.tasks.reduce(0) { $0 + $1.attempts })\n"
        let stale = s.tasks.filter { $0.isStale(at: now) }
        if !stale.isEmpty {
            out += "  stale: " + stale.map { "\($0.id) (\(SafeText.escape($0.owner ?? "?")))" }.joined(separator: "; ") + "  ·  `logbook stale` for more\n"
        }
        let blocked = s.tasks.filter { $0.status == .blocked }
        if !blocked.isEmpty {
            out += "  blockers: " + blocked.map { "\($0.id) (\(SafeText.escape($0.blockReason ?? "")))" }.joined(separator: "; ") + "\n"
        }
        return out
    }

    static func format(_ d: Double) -> String {
        d == d.rounded() ? String(Int(d)) : String(format2(d))
    }

    static func format2(_ d: Double) -> String {
        let x = (d * 10).rounded() / 10
        return String(x)
    }

    struct Colors {
        let on: Bool
        func wrap(_ code: String, _ s: String) -> String { on ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
        func bold(_ s: String) -> String { wrap("1", s) }
        func status(_ st: TaskStatus, _ s: String) -> String {
            switch st {
            case .done: wrap("32", s)
            case .inProgress: wrap("36", s)
            case .blocked: wrap("33", s)
            case .failed: wrap("31", s)
            case .waived: wrap("35", s)
            case .pending: wrap("2", s)
            }
        }
    }
}
