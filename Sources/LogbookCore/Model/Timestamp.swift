import Foundation

/// RFC 3339 UTC timestamps with milliseconds (`2026-11-25T22:14:12.123Z`), computed without
/// calendars or formatters (this is on the append path).
public enum Timestamp {
    public static func string(_ date: Date) -> String {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        return string(millisecondsSince1970: ms)
    }

    public static func string(millisecondsSince1970 ms: Int64) -> String {
        let secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        let milli = Int(ms - secs * 1000)
        var days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400
        let rem = Int(secs - days * 86400)
        // Howard Hinnant's civil_from_days.
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let doe = days - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        var y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        if m <= 2 { y += 1 }
        func pad(_ n: Int, _ w: Int) -> String {
            let s = String(n)
            return s.count >= w ? s : String(repeating: "0", count: w - s.count) + s
        }
        return "\(pad(Int(y), 4))-\(pad(Int(m), 2))-\(pad(Int(d), 2))T\(pad(rem / 3600, 2)):\(pad(rem % 3600 / 60, 2)):\(pad(rem % 60, 2)).\(pad(milli, 3))Z"
    }

    /// Milliseconds since 1970 of a timestamp in the exact form ``string(_:)`` writes, or nil.
    public static func parse(_ s: String) -> Int64? {
        let u = Array(s.utf8)
        guard u.count == 24, u[4] == 0x2D, u[7] == 0x2D, u[10] == 0x54, u[13] == 0x3A, u[16] == 0x3A, u[19] == 0x2E, u[23] == 0x5A
        else { return nil }
        func num(_ a: Int, _ b: Int) -> Int? {
            var n = 0
            for i in a..<b {
                guard (0x30...0x39).contains(u[i]) else { return nil }
                n = n * 10 + Int(u[i] - 0x30)
            }
            return n
        }
        guard var y = num(0, 4), let m = num(5, 7), let d = num(8, 10), let hh = num(11, 13), let mm = num(14, 16),
              let ss = num(17, 19), let ms = num(20, 23), (1...12).contains(m), (1...31).contains(d), hh < 24, mm < 60, ss < 61
        else { return nil }
        y -= m <= 2 ? 1 : 0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = Int64(era * 146_097 + doe - 719_468)
        return ((days * 86400) + Int64(hh * 3600 + mm * 60 + ss)) * 1000 + Int64(ms)
    }

    /// The instant of a timestamp in the form ``string(_:)`` writes, or nil.
    public static func date(_ s: String) -> Date? {
        parse(s).map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }
}
