import LogbookCore
import Synchronization

extension JournalStoreConformance {
    /// Check marks are optional, but a store that keeps them keeps each with its lines: the next
    /// append's `build` and the readers get the newest one kept, a mark whose append wrote
    /// nothing (refused, or no lines) is dropped, and readers get it with the lines in one view.
    static func checkMarksTravelWithTheirLines(_ backend: Backend) async throws {
        let c = Check.checkMarksTravelWithTheirLines.rawValue
        let (store, w) = try await RawJournal.filled(backend, lines: 2)
        let ref = RawJournal.ref
        let seen = Mutex<[[UInt8]?]>([])
        /// Appends one line (or none) offering `mark`; returns the mark `build` was given.
        func append(_ mark: String, lines: Bool = true, refuse: Bool = false) async throws -> [UInt8]? {
            struct Refused: Error {}
            do {
                _ = try await store.append(ref, from: w.cursor, marking: { newer, stored in
                    seen.withLock { $0.append(stored) }
                    if refuse { throw Refused() }
                    let last = newer.compactMap { JournalHead.seq($0.bytes) }.last ?? w.lastSeq
                    return MarkedLines(lines: lines ? [RawJournal.line(seq: last + 1, tag: "m")] : [], checkMark: Array(mark.utf8))
                })
            } catch is Refused {}
            return seen.withLock { $0.last! }
        }
        let initial = try await append("M1")
        try await require(initial == nil, c, "a fresh journal's first append was given a mark: \(initial.map { String(decoding: $0, as: UTF8.self) } ?? "")")
        let kept = try await append("M2") != nil
        guard kept else {
            // A store that keeps no marks gives none anywhere.
            try await require(try await store.loadCheckMark(ref) == nil, c, "a store that gives build no mark returns one to readers")
            try await require(try await store.readWithCheckMark(ref, from: 0, limit: 1 << 20).checkMark == nil, c, "a store that keeps no marks returned one with lines")
            return
        }
        try await require(seen.withLock { $0.last! } == Array("M1".utf8), c, "the second append was not given the first append's mark")
        try await require(try await store.loadCheckMark(ref) == Array("M2".utf8), c, "loadCheckMark does not return the newest mark kept")
        let view = try await store.readWithCheckMark(ref, from: 0, limit: 1 << 20)
        try await require(view.checkMark == Array("M2".utf8) && view.lines.count == 5, c, "readWithCheckMark does not return every line and the newest mark")
        _ = try await append("REFUSED", refuse: true)
        _ = try await append("NO-LINES", lines: false)
        try await require(try await append("M3") == Array("M2".utf8), c, "a mark whose append wrote nothing was kept")
        try await require(try await store.loadCheckMark(ref) == Array("M3".utf8), c, "loadCheckMark does not return the newest mark kept")
    }
}
