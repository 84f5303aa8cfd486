import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore

#if canImport(Glibc)
import Glibc
#endif

/// Sizes and seeds of the reliability families: CI sizes by default, soak sizes with
/// `LOGBOOK_SOAK=1`, and a fixed seed unless `LOGBOOK_SEED` says otherwise.
enum Reliability {
    static let env = ProcessInfo.processInfo.environment
    static var soak: Bool { env["LOGBOOK_SOAK"] == "1" }
    static func int(_ name: String, ci: Int, soak soakValue: Int) -> Int {
        if let v = env[name].flatMap(Int.init) { return v }
        return soak ? soakValue : ci
    }
    static var seed: UInt64 { env["LOGBOOK_SEED"].flatMap(UInt64.init) ?? 0x4C6F_6762_6F6F_6B21 }
}

/// SplitMix64: small, fast, seeded, the same sequence on every platform.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Workspace {
    /// Lines of a journal file as raw bytes (each without its newline), and the trailing partial line.
    static func splitLines(_ bytes: [UInt8]) -> (lines: [[UInt8]], partial: [UInt8]) {
        var lines: [[UInt8]] = []
        var start = 0
        for (i, b) in bytes.enumerated() where b == 0x0A {
            lines.append(Array(bytes[start..<i]))
            start = i + 1
        }
        return (lines, Array(bytes[start...]))
    }
}

/// Writes `bytes` over `path` in place, same inode, as a crash or an editor would leave it
/// (tests only: tampering and torn tails). FileManager would replace the file by a rename, which
/// a store holding the old file open would never see.
func overwrite(_ path: String, _ bytes: [UInt8]) {
    let fd = open(path, O_WRONLY | O_TRUNC | O_CREAT, 0o644)
    precondition(fd >= 0, "open \(path)")
    defer { close(fd) }
    var done = 0
    bytes.withUnsafeBytes { b in
        while done < b.count {
            let n = write(fd, b.baseAddress! + done, b.count - done)
            precondition(n > 0, "write \(path)")
            done += n
        }
    }
}
