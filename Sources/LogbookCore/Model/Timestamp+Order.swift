import Foundation

extension Timestamp {
    /// The timestamp of an event appended after one stamped `previous`: the clock's time, but
    /// never earlier than `previous`, so timestamps never go backwards in seq order even when the
    /// clock steps back (NTP) or writers' clocks disagree (hybrid-logical-clock style: a clock
    /// behind the journal's last event records that event's time).
    ///
    /// Writers call it while they hold the journal's exclusion, after folding every event already
    /// written, so `previous` is the head's timestamp. Both are in the fixed-width form of
    /// ``string(_:)`` (years 0000–9999), whose text order is time order.
    public static func string(_ date: Date, notBefore previous: String?) -> String {
        let now = string(date)
        guard let previous, parse(previous) != nil, previous > now else { return now }
        return previous
    }
}
