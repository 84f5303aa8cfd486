import LogbookCore
import Synchronization

extension JournalStoreConformance {
    static func createAndExists(_ backend: Backend) async throws {
        let c = Check.createAndExists.rawValue
        let store = try await backend.make()
        let ref = RawJournal.ref
        try await require(try await store.journalExists(ref) == false, c, "a fresh store says the journal exists")
        try await store.createJournal(ref, genesis: RawJournal.genesis)
        try await require(try await store.journalExists(ref), c, "the created journal does not exist")
        let lines = try await RawJournal.all(store)
        try await require(lines.map(\.bytes) == [Array(RawJournal.genesis.dropLast())], c, "the journal does not hold exactly the genesis: \(lines.count) lines")
        try await requireError(.alreadyExists, c, "a second create") {
            try await store.createJournal(ref, genesis: RawJournal.line(seq: 0, tag: "other"))
        }
        try await require(try await RawJournal.all(store).map(\.bytes) == lines.map(\.bytes), c, "a refused create changed the journal")
    }

    static func missingJournal(_ backend: Backend) async throws {
        let c = Check.missingJournal.rawValue
        let store = try await backend.make()
        let ref = JournalRef(planID: "NOPE", g: 99)
        try await require(try await store.journalExists(ref) == false, c, "a missing journal exists")
        try await requireError(.notFound, c, "a read of a missing journal") { try await store.read(ref, from: 0, limit: 100) }
        try await requireError(.notFound, c, "the head of a missing journal") { try await store.head(ref) }
        try await requireError(.notFound, c, "an append to a missing journal") {
            try await store.append(ref, from: 0) { _ in [RawJournal.line(seq: 1, tag: "x")] }
        }
        try await require(try await store.journalExists(ref) == false, c, "an append created the journal")
        var ended = true
        for await head in store.changes(ref) {
            ended = false
            throw ConformanceFailure(check: c, "the change stream of a missing journal yielded \(head)")
        }
        try await require(ended, c, "the change stream of a missing journal did not finish")
    }

    static func orderedBoundedReads(_ backend: Backend) async throws {
        let c = Check.orderedBoundedReads.rawValue
        let (store, _) = try await RawJournal.filled(backend, lines: 60)
        let lineBytes = RawJournal.line(seq: 60, tag: "w").count
        for limit in [1, 200, 700, 1 << 20] {
            var seqs: [Int] = []
            var cursor: Int64 = 0
            while true {
                let page = try await store.read(RawJournal.ref, from: cursor, limit: limit)
                guard let last = page.last else { break }
                try await require(last.end > cursor, c, "a page from \(cursor) ends at \(last.end)")
                let bytes = page.reduce(0) { $0 + $1.bytes.count + 1 }
                try await require(page.count == 1 || bytes < limit + lineBytes, c, "a page of limit \(limit) holds \(bytes) bytes")
                var previous = cursor
                for l in page {
                    try await require(l.end > previous, c, "positions in a page do not ascend")
                    try await require(l.bytes.last != 0x0A && !l.bytes.contains(0x0A), c, "a line carries a newline")
                    previous = l.end
                    seqs.append(try seqOf(l, c))
                }
                cursor = last.end
            }
            try await require(seqs == Array(0...60), c, "pages of limit \(limit) gave seqs \(seqs.prefix(8))… (\(seqs.count)), not 0…60 in order")
        }
        // A read from a line's end goes on with the next line.
        let all = try await RawJournal.all(store)
        let from = try await store.read(RawJournal.ref, from: all[29].end, limit: 1)
        try await require(from.first.map { try seqOf($0, c) } == 30, c, "a read from seq 29's end does not start at seq 30")
        try await require(try await store.read(RawJournal.ref, from: all[60].end, limit: 100).isEmpty, c, "a read from the end is not empty")
    }

    static func appendExclusion(_ backend: Backend) async throws {
        let c = Check.appendExclusion.rawValue
        let store = try await backend.make()
        try await store.createJournal(RawJournal.ref, genesis: RawJournal.genesis)
        let writers = 12, each = 15
        try await withThrowingTaskGroup(of: Void.self) { group in
            for t in 0..<writers {
                group.addTask {
                    var w = RawJournal.Writer("w\(t)")
                    for i in 0..<each { try await w.append(store, count: i % 3 == 0 ? 2 : 1) }
                }
            }
            try await group.waitForAll()
        }
        let lines = try await RawJournal.all(store)
        let perWriter = (0..<each).reduce(0) { $0 + ($1 % 3 == 0 ? 2 : 1) }
        try await require(lines.count == 1 + writers * perWriter, c, "\(lines.count) lines, expected \(1 + writers * perWriter): lines were lost or duplicated")
        let seqs = try lines.map { try seqOf($0, c) }
        try await require(seqs == Array(0..<lines.count), c, "seqs are not 0…\(lines.count - 1) in order: two appenders saw the same head")
        var tags: [String: Int] = [:]
        for l in lines.dropFirst() {
            let s = String(decoding: l.bytes, as: UTF8.self)
            guard let r = s.range(of: #""writer":""#) else { throw ConformanceFailure(check: c, "a line lost its writer tag") }
            tags[String(s[r.upperBound...].prefix { $0 != "\"" }), default: 0] += 1
        }
        try await require(tags.count == writers && tags.values.allSatisfy { $0 == perWriter }, c, "lines per writer: \(tags)")
    }

    static func buildThrowsWritesNothing(_ backend: Backend) async throws {
        let c = Check.buildThrowsWritesNothing.rawValue
        let (store, w) = try await RawJournal.filled(backend, lines: 3)
        struct Refused: Error {}
        let before = try await RawJournal.all(store)
        do {
            _ = try await store.append(RawJournal.ref, from: 0) { _ in throw Refused() }
            throw ConformanceFailure(check: c, "an append whose build threw succeeded")
        } catch is Refused {}
        let calls = Mutex(0)
        let end = try await store.append(RawJournal.ref, from: w.cursor) { newer in
            calls.withLock { $0 += 1 }
            return newer.isEmpty ? [] : [RawJournal.line(seq: 99, tag: "unexpected")]
        }
        try await require(calls.withLock { $0 } == 1, c, "build was called \(calls.withLock { $0 }) times for one append")
        try await require(end == w.cursor, c, "an append of nothing moved the end from \(w.cursor) to \(end)")
        let after = try await RawJournal.all(store)
        try await require(after.map(\.bytes) == before.map(\.bytes), c, "a throwing or empty build changed the journal")
    }

    static func head(_ backend: Backend) async throws {
        let c = Check.head.rawValue
        let store = try await backend.make()
        try await store.createJournal(RawJournal.ref, genesis: RawJournal.genesis)
        var w = RawJournal.Writer("h")
        for n in 0..<40 {
            let head = try await store.head(RawJournal.ref)
            let lines = try await RawJournal.all(store)
            let last = lines[lines.count - 1]
            let (seq, hash) = try JournalHead.seqAndHash(last.bytes) ?? { throw ConformanceFailure(check: c, "a line without seq and hash") }()
            try await require(head == JournalHead(seq: seq, hash: hash, end: last.end), c,
                        "after \(n) appends the head is \(head.map(\.description) ?? "nil"), the last line is seq \(seq) \(hash) ending at \(last.end)")
            try await w.append(store, count: n % 4 + 1)
        }
    }

    static func lineAtSeqAndHints(_ backend: Backend) async throws {
        let c = Check.lineAtSeqAndHints.rawValue
        let (store, _) = try await RawJournal.filled(backend, lines: 50)
        let lines = try await RawJournal.all(store)
        let ref = RawJournal.ref
        for seq in [0, 1, 17, 25, 49, 50] {
            let want = lines[seq]
            let hints: [(String, Int64?)] = [("no hint", nil), ("its own end", want.end), ("another line's end", lines[(seq + 7) % lines.count].end),
                                             ("a position inside a line", want.end - 3), ("past the end", lines[50].end + 1000), ("negative", -5)]
            for (what, hint) in hints {
                guard let got = try await store.line(atSeq: seq, hint: hint, ref) else {
                    throw ConformanceFailure(check: c, "line(atSeq: \(seq)) with \(what) found nothing")
                }
                try await require(got.bytes == want.bytes && got.end == want.end, c,
                            "line(atSeq: \(seq)) with \(what) gave seq \(JournalHead.seq(got.bytes) ?? -1) ending at \(got.end), not the line ending at \(want.end)")
            }
        }
        try await require(try await store.line(atSeq: 51, hint: nil, ref) == nil, c, "a seq past the head was found")
        try await require(try await store.line(atSeq: 51, hint: lines[50].end, ref) == nil, c, "a seq past the head was found at the head's end")
    }

    static func changesWake(_ backend: Backend) async throws {
        let c = Check.changesWake.rawValue
        let (store, start) = try await RawJournal.filled(backend, lines: 2)
        try await changesWake(store, start, c)
        // Cancelling the consuming task ends the stream.
        let consumer = Task { () -> Int in
            var n = 0
            for await _ in store.changes(RawJournal.ref) { n += 1 }
            return n
        }
        consumer.cancel()
        let n = await consumer.value
        try await require(n <= 1, c, "a cancelled consumer saw \(n) heads")
        // Every stream released what it held (the first one when its iterator went).
        if let open = backend.openChangeStreams {
            var left = open(store)
            for _ in 0..<5000 where left > 0 {
                try await Task.sleep(nanoseconds: 1_000_000)
                left = open(store)
            }
            try await require(left == 0, c, "\(left) change streams still hold their resources after their consumers ended")
        }
    }

    static func changesWake(_ store: any JournalStore, _ start: RawJournal.Writer, _ c: String) async throws {
        let first = try await store.head(RawJournal.ref)
        var seen: [JournalHead] = []
        let stream = store.changes(RawJournal.ref)
        var it = stream.makeAsyncIterator()
        guard let initial = await it.next() else { throw ConformanceFailure(check: c, "the stream ended before its first head") }
        try await require(initial == first, c, "the first head is \(initial), not the head \(first.map(\.description) ?? "nil")")
        var w = start
        for round in 1...5 {
            try await w.append(store, count: round)
            // Heads may be coalesced: wait until one at or past our append arrives.
            while true {
                guard let h = await it.next() else { throw ConformanceFailure(check: c, "the stream ended after \(round) appends") }
                try await require(seen.last.map { h.seq > $0.seq } ?? true, c, "the stream went from \(seen.last!) to \(h)")
                seen.append(h)
                if h.seq >= w.lastSeq { break }
            }
            try await require(seen.last == (try await store.head(RawJournal.ref)), c, "the stream's head \(seen.last!) is not the store's")
        }
        // Another writer's append (another store object on the same data would do the same).
        var other = RawJournal.Writer("other")
        other.cursor = w.cursor
        other.lastSeq = w.lastSeq
        try await other.append(store)
        guard let h = await it.next(), h.seq == other.lastSeq else { throw ConformanceFailure(check: c, "another writer's append did not wake the stream") }
    }

    static func sealRefusesAppends(_ backend: Backend) async throws {
        let c = Check.sealRefusesAppends.rawValue
        let (store, w) = try await RawJournal.filled(backend, lines: 5)
        let before = try await RawJournal.all(store)
        let head = try await store.head(RawJournal.ref)
        try await require(try await store.isSealed(RawJournal.ref) == false, c, "a new journal is sealed")
        try await store.seal(RawJournal.ref)
        try await require(try await store.isSealed(RawJournal.ref), c, "a sealed journal says it is not")
        var w2 = w
        try await requireError(.locked, c, "an append after seal") { try await w2.append(store) }
        try await store.seal(RawJournal.ref)  // again: nothing to do
        let after = try await RawJournal.all(store)
        try await require(after.map(\.bytes) == before.map(\.bytes), c, "sealing changed the lines")
        try await require(try await store.head(RawJournal.ref) == head, c, "sealing moved the head")
        try await require(try await store.line(atSeq: 5, hint: nil, RawJournal.ref).map { $0.bytes } ?? before[5].bytes == before[5].bytes, c,
                    "after seal, line(atSeq:) gives another line")
    }

    static func healthyJournalHasNoFindings(_ backend: Backend) async throws {
        let c = Check.healthyJournalHasNoFindings.rawValue
        let (store, _) = try await RawJournal.filled(backend, lines: 30)
        let f = try await store.findings(RawJournal.ref)
        try await require(f.isEmpty, c, "a journal written only through the store has findings: \(f)")
        try await requireError(.notFound, c, "findings of a missing journal") { try await store.findings(JournalRef(planID: "NOPE", g: 98)) }
    }

    static func snapshotRules(_ backend: Backend) async throws {
        let c = Check.snapshotRules.rawValue
        let (store, _) = try await RawJournal.filled(backend, lines: 1)
        let ref = RawJournal.ref
        func doc(_ seq: Int) -> [UInt8] { Array(#"{"journal":{"seq":\#(seq)}}"#.utf8) }
        try await require(try await store.loadSnapshot(ref) == nil, c, "a new journal has a snapshot")
        try await store.storeSnapshot(ref, doc(5), seq: 5)
        try await store.storeSnapshot(ref, doc(3), seq: 3)
        try await require(try await store.loadSnapshot(ref) == doc(5), c, "a snapshot at seq 3 replaced one at seq 5")
        try await store.storeSnapshot(ref, doc(9), seq: 9, SnapshotWrite(durable: false))
        try await require(try await store.loadSnapshot(ref) == doc(9), c, "a later snapshot did not replace the earlier one")
        try await store.storeSnapshot(ref, doc(2), seq: 2, SnapshotWrite(durable: true, replaceLater: true))
        try await require(try await store.loadSnapshot(ref) == doc(2), c, "replaceLater did not replace a snapshot claiming a later seq")
    }

    static func seqOf(_ line: JournalLine, _ check: String) throws -> Int {
        guard let s = JournalHead.seq(line.bytes) else { throw ConformanceFailure(check: check, "a line without a top-level seq: \(String(decoding: line.bytes.prefix(80), as: UTF8.self))") }
        return s
    }
}
