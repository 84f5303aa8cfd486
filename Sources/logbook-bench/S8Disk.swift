#if canImport(Glibc)
import Glibc
#endif
import CLogbookShims
import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore

/// Scenario 8: bytes per progress event in the journal's text, and the rotated gzip segments
/// against the text they hold; when the journal is too short to have rotated (smoke sizes), the
/// gzip (level 6, the system zlib through the shim segments use) of the live file instead.
enum Disk {
    static func run(_ c: Config, journal path: String, events: Int, size js: Fixture.JournalSize) throws -> [Row] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw BenchError("open \(path)") }
        defer { close(fd) }
        var st = stat()
        fstat(fd, &st)
        let size = Int(st.st_size)
        // Bytes per event from the progress lines only (the genesis lists every task).
        var firstLine = 0
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        let n0 = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        if n0 > 0, let nl = buf[0..<n0].firstIndex(of: 0x0A) { firstLine = nl + 1 }
        let perEvent = Double(js.textBytes - firstLine) / Double(max(1, events - 1))
        if js.segments > 0 {
            let ratio = Double(js.segmentGzipBytes) / Double(js.segmentTextBytes)
            return [
                Row(id: "8a", scenario: "disk per progress event (journal text)", logbook: String(format: "%.0f B/event", perEvent),
                    baseline: "700 B limit", ratio: perEvent / 700, target: "≤ 700 B", met: perEvent <= 700),
                Row(id: "8b", scenario: "archive / live: \(js.segments) rotated gzip segments", logbook: String(format: "%.1f %%", ratio * 100),
                    baseline: String(format: "%.1f MiB text", Double(js.segmentTextBytes) / 1_048_576), ratio: ratio / 0.25, target: "≤ 25 %", met: ratio <= 0.25),
            ]
        }
        // Compress up to 64 MiB of the live file (the ratio is stable well before that).
        let sample = min(size, 64 << 20)
        var input = [UInt8](repeating: 0, count: sample)
        var got = 0
        while got < sample {
            let n = input.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + got, sample - got, off_t(got)) }
            if n <= 0 { break }
            got += n
        }
        var out = [UInt8](repeating: 0, count: clogbook_gzip_bound(got))
        var outLen = out.count
        let rc = input.withUnsafeBufferPointer { i in out.withUnsafeMutableBufferPointer { o in clogbook_gzip(i.baseAddress, got, o.baseAddress, &outLen, 6) } }
        guard rc == 0 else { throw BenchError("gzip failed (\(rc))") }
        let ratio = Double(outLen) / Double(got)
        return [
            Row(id: "8a", scenario: "disk per progress event (journal text)", logbook: String(format: "%.0f B/event", perEvent),
                baseline: "700 B limit", ratio: perEvent / 700, target: "≤ 700 B", met: perEvent <= 700),
            Row(id: "8b", scenario: "archive / live (too short to rotate: gzip -6 of the live file)", logbook: String(format: "%.1f %%", ratio * 100),
                baseline: String(format: "%.1f MiB live", Double(got) / 1_048_576), ratio: ratio / 0.25, target: "≤ 25 %", met: ratio <= 0.25),
        ]
    }
}
