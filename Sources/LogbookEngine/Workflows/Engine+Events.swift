import LogbookCore

/// One durable journal line with the two things a reader of a stream needs without parsing it
/// again: its seq and its event type.
public struct EventLine: Sendable {
    public var seq: Int
    public var type: EventType
    /// The journal line, byte for byte, without its newline.
    public var bytes: [UInt8]
    /// The store's position after the line.
    public var end: Int64

    /// Reads seq and type from `line`. Throws `.corrupt` naming `plan` when the line is not an event.
    public init(_ line: JournalLine, plan: String) throws(LogbookError) {
        let e: Event
        do { e = try Event(line: line.bytes) } catch { throw error.with(plan: plan) }
        self.seq = e.seq
        self.type = e.type
        self.bytes = line.bytes
        self.end = line.end
    }
}

extension LogbookEngine {
    /// The most events one ``events(_:from:limit:)`` call returns.
    public static let eventsPerReadLimit = 1000

    /// The durable events of a locked plan from seq `from` on, oldest first, at most `limit`
    /// (1…``eventsPerReadLimit``): what `GET /v1/plans/{plan}/events` returns and where a live
    /// stream catches up from. Empty when `from` is past the head.
    ///
    /// - Throws: `.badInput` (rule `range`) for a negative `from` or a `limit` out of range;
    ///   `.notLocked` for a DRAFT; `.corrupt` when the plan no longer matches its journal, or a
    ///   line is not an event or out of order (run `logbook verify`).
    public func events(_ file: PlanFile, from: Int, limit: Int) async throws -> [EventLine] {
        guard from >= 0 else { throw LogbookError(.badInput, "from must be a seq ≥ 0, got \(from)", plan: file.id, rule: "range") }
        guard (1...Self.eventsPerReadLimit).contains(limit) else {
            throw LogbookError(.badInput, "limit must be from 1 to \(Self.eventsPerReadLimit), got \(limit)", plan: file.id, rule: "range")
        }
        _ = try await lockedPlanAndGenesis(file)
        return try await events(file.journalRef, from: from, at: try await position(before: from, file.journalRef), limit: limit)
    }

    /// Events from seq `from` on, reading from position `at` (a position at or before that
    /// seq's line: earlier lines are skipped), at most `limit`.
    public func events(_ ref: JournalRef, from: Int, at: Int64, limit: Int) async throws -> [EventLine] {
        var out: [EventLine] = []
        var cursor = at
        while out.count < limit {
            let lines = try await journals.read(ref, from: cursor, limit: 256 << 10)
            guard let last = lines.last else { break }
            for line in lines {
                let e = try EventLine(line, plan: ref.planID)
                guard e.seq >= from else { continue }
                let expected = out.last.map { $0.seq + 1 } ?? from
                guard e.seq == expected else {
                    throw LogbookError(.corrupt, "the journal line after seq \(expected - 1) is seq \(e.seq); run `logbook verify`",
                                       plan: ref.planID, seq: expected)
                }
                out.append(e)
                if out.count == limit { break }
            }
            cursor = last.end
        }
        return out
    }

    /// A position at or before the line of `seq` (the end of seq − 1's line), found without
    /// reading the journal from the start where the store can: 0 for seq 0, the durable end
    /// when `seq` is past the head.
    public func position(before seq: Int, _ ref: JournalRef) async throws -> Int64 {
        guard seq > 0 else { return 0 }
        if let line = try await journals.line(atSeq: seq - 1, hint: nil, ref) { return line.end }
        guard let head = try await journals.head(ref) else { return 0 }
        if seq - 1 >= head.seq { return head.end }
        // A journal whose seqs are out of order (edited): the start is always right.
        return 0
    }
}
