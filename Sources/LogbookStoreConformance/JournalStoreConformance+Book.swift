import LogbookCore
import Synchronization

/// The store under a ``StatusBook``: real, signed events, several books, snapshots.
extension JournalStoreConformance {
    static func bookFoldsOtherWritersLines(_ backend: Backend) async throws {
        let c = Check.bookFoldsOtherWritersLines.rawValue
        let f = try await ConformanceFixture.make(try await backend.make())
        let a = try await f.book(), b = try await f.book()
        try await f.submit(a, .started, "T1", "WORKER")
        // b has not seen seq 1: its append must fold it in first and continue the chain.
        let e2 = try await f.submit(b, .progress, "T1", "WORKER", ["percent": 30])
        try await require(e2.seq == 2, c, "the second book's event is seq \(e2.seq), not 2")
        let lines = try await f.lines()
        try await require(lines.count == 3, c, "\(lines.count) lines, not 3")
        try await require(try Event(line: lines[2]).prev == (try Event(line: lines[1])).hash, c, "seq 2 does not chain to seq 1")
        let seen = try await a.state()
        try await require(seen.seq == 2 && seen.task("T1")?.percent == 30, c, "the first book did not read the second's event")
    }

    static func refusedEventsWriteNothing(_ backend: Backend) async throws {
        let c = Check.refusedEventsWriteNothing.rawValue
        let f = try await ConformanceFixture.make(try await backend.make())
        let book = try await f.book()
        let before = try await f.lines()
        for (what, type, task, persona, data) in [("progress before start", EventType.progress, "T1", "WORKER", ["percent": JSONValue(10)] as JSONObject),
                                                  ("a task whose dependency is open", .started, "T2", "WORKER", [:]),
                                                  ("another persona's task", .started, "T1", "WORKER2", [:])] {
            try await requireLogbookError(c, what) { try await f.submit(book, type, task, persona, data) }
        }
        try await require(try await f.lines() == before, c, "refused events changed the journal")
    }

    static func readersDuringCommits(_ backend: Backend) async throws {
        let c = Check.readersDuringCommitsSeeConsistentStates.rawValue
        let f = try await ConformanceFixture.make(try await backend.make())
        let book = try await f.book(interval: 16)
        try await f.submit(book, .started, "T1", "WORKER")
        let writers = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for t in 0..<8 {
                    group.addTask { for i in 0..<20 { try await f.submit(book, .progress, "T1", "WORKER", ["percent": JSONValue((t * 20 + i) % 101), "note": .string("writer \(t), event \(i)")]) } }
                }
                try await group.waitForAll()
            }
        }
        var seen: [(Int, Digest256?)] = []
        var last = -1
        while true {
            let s = try await book.state()
            try await require(s.seq >= last, c, "a reader's seq went back from \(last) to \(s.seq)")
            last = s.seq
            seen.append((s.seq, s.head))
            if s.seq >= 161 { break }
            await Task.yield()
        }
        try await writers.value
        let events = try await f.lines().map { try Event(line: $0) }
        try await require(events.count == 162, c, "\(events.count) events, not 162")
        for (seq, head) in seen { try await require(events[seq].hash == head, c, "the state a reader saw at seq \(seq) is not the journal's") }
    }

    static func manyBooksLoseNothing(_ backend: Backend) async throws {
        let c = Check.manyBooksLoseNothing.rawValue
        let f = try await ConformanceFixture.make(try await backend.make())
        // Four books (as four agents in one process would have) and 16 tasks appending.
        var books: [StatusBook] = []
        for _ in 0..<4 { books.append(try await f.book(interval: 50)) }
        try await f.submit(books[0], .started, "T1", "WORKER")
        let perTask = 25, tasks = 16
        let hashes = try await withThrowingTaskGroup(of: [Digest256].self) { group in
            for t in 0..<tasks {
                let book = books[t % books.count]
                group.addTask {
                    var out: [Digest256] = []
                    for i in 0..<perTask {
                        // Distinct statements: with the fixture's fixed clock two writers could
                        // otherwise sign the same bytes, which the store records once (a repeat).
                        out.append(try await f.submit(book, .progress, "T1", "WORKER",
                                                      ["percent": JSONValue((t + i) % 101), "note": .string("writer \(t), event \(i)")]).hash)
                    }
                    return out
                }
            }
            return try await group.reduce(into: [Digest256]()) { $0 += $1 }
        }
        let lines = try await f.lines()
        try await require(lines.count == 2 + perTask * tasks, c, "\(lines.count) lines, not \(2 + perTask * tasks)")
        let events = try lines.map { try Event(line: $0) }
        try await require(events.map(\.seq) == Array(0..<lines.count), c, "seqs are not 0…\(lines.count - 1)")
        try await require(Set(hashes).isSubset(of: Set(events.map(\.hash))) && Set(hashes).count == hashes.count, c,
                    "an acknowledged event is missing or was acknowledged twice")
        var v = Verifier(plan: f.doc, spec: f.spec, registry: f.registry, snapshot: nil)
        for (i, l) in lines.enumerated() { v.feed(JournalLine(bytes: l, end: Int64(i))) }
        let report = v.finish()
        try await require(report.ok, c, "verify: \(report.failure?.description ?? "")")
    }

    /// The snapshot a book stores is the state folded from the journal, byte for byte; it
    /// records no position of the store.
    static func snapshotRebuildsBitForBit(_ backend: Backend) async throws {
        let c = Check.snapshotRebuildsBitForBit.rawValue
        let f = try await ConformanceFixture.make(try await backend.make())
        let book = try await f.book(interval: 3)
        try await standardEvents(f, book)
        try await book.writeSnapshot()
        guard let stored = try await f.store.loadSnapshot(f.ref) else { throw ConformanceFailure(check: c, "no snapshot was stored") }
        let (fromSnapshot, _) = try await f.book().snapshotBytes()
        var state = StatusState(plan: f.spec)
        try await f.store.forEachLine(f.ref) { line in try state.apply(try Event(line: line.bytes)) }
        try await require(fromSnapshot == stored, c, "a book opened from the snapshot gives other bytes")
        try await require(PrettyJSON.bytes(state.snapshot()) == stored, c, "the stored snapshot is not the folded state's")
        let doc = try JSONParser.parse(stored)
        try await require(doc["journal"]?["cursor"] == nil, c, "the snapshot records a store position (journal.cursor)")
    }

    /// The events ``snapshotRebuildsBitForBit`` and the cross-backend tests write.
    public static func standardEvents(_ f: ConformanceFixture, _ book: StatusBook) async throws {
        try await f.submit(book, .started, "T1", "WORKER")
        try await f.submit(book, .progress, "T1", "WORKER", ["percent": 50, "note": "half"])
        try await f.submit(book, .testResult, "T1", "WORKER", ["suite": "unit", "passed": 4, "failed": 1])
        try await f.submit(book, .done, "T1", "WORKER", ["summary": "ok"])
        try await f.submit(book, .blocked, "T4", "WORKER2", ["reason": "waiting"])
        try await f.submit(book, .achievement, "T1", "SUPERVISOR", ["summary": "first task"])
    }

    static func readersAreExactBeyondTheSnapshot(_ backend: Backend) async throws {
        let c = Check.readersAreExactBeyondTheSnapshot.rawValue
        let f = try await ConformanceFixture.make(try await backend.make())
        let writer = try await f.book(interval: 1000)  // the stored snapshot stays at seq 0
        try await f.submit(writer, .started, "T1", "WORKER")
        for p in [10, 20, 30] { try await f.submit(writer, .progress, "T1", "WORKER", ["percent": JSONValue(p)]) }
        let s = try await f.book().state()
        try await require(s.seq == 4 && s.task("T1")?.percent == 30, c, "a new reader is at seq \(s.seq), T1 \(s.task("T1")?.percent ?? -1) %")
    }

    /// A sealed snapshot is proved through ``JournalStore/line(atSeq:hint:_:)``: a new book
    /// starts from it (reads nothing between the genesis and the snapshot's line), and one
    /// whose head hash is not the journal's is replayed from the start.
    static func sealedSnapshotIsProvedByTheStore(_ backend: Backend) async throws {
        let c = Check.sealedSnapshotIsProvedByTheStore.rawValue
        let f = try await ConformanceFixture.make(try await backend.make())
        let book = try await f.book(interval: 1000)
        try await standardEvents(f, book)
        try await book.writeSnapshot(sealedBy: f.keys["SUPERVISOR"])
        try await f.submit(book, .started, "T2", "WORKER")
        guard let at = try await f.store.line(atSeq: 6, hint: nil, f.ref) else {
            throw ConformanceFailure(check: c, "the store cannot find seq 6, the snapshot's")
        }
        let counting = ReadCounting(f.store)
        let truth = try await book.state()
        let opened = try await f.book(on: counting).state()
        try await require(opened == truth, c, "a book opened from the sealed snapshot has another state")
        let starts = counting.starts.withLock { $0 }
        try await require(starts.allSatisfy { $0 == 0 || $0 >= at.end }, c, "a book with a provable snapshot read from \(starts), before the snapshot's line end \(at.end)")
        try await require(starts.contains(at.end), c, "a book with a provable snapshot did not read on from its line (reads from \(starts))")
        // A valid seal over a head hash the journal does not have at that seq: the store's line
        // does not match, so it is not proved, and the book replays from the start.
        guard var doc = SnapshotSeal.unsealed(try JSONParser.parse(try await f.store.loadSnapshot(f.ref) ?? [])).objectValue,
              var journal = doc["journal"]?.objectValue else { throw ConformanceFailure(check: c, "the stored snapshot has no journal section") }
        journal["head_hash"] = .string("sha256:" + String(repeating: "0", count: 64))
        doc["journal"] = .object(journal)
        let genesis = try Event(line: try await f.lines()[0])
        let forged = SnapshotSeal.seal(.object(doc), genesisHash: genesis.hash, with: f.keys["SUPERVISOR"]!)
        try await f.store.storeSnapshot(f.ref, PrettyJSON.bytes(forged), seq: 99)
        let replaying = ReadCounting(f.store)
        let again = try await f.book(on: replaying).state()
        try await require(again == truth, c, "a book opened past a forged snapshot has another state")
        try await require(replaying.starts.withLock { $0 }.filter { $0 == 0 }.count >= 2, c, "a forged snapshot was not replayed from the start")
    }
}

extension JournalStoreConformance {
    /// A store that records where each read starts (to tell a proved snapshot from a replay).
    final class ReadCounting: ForwardingJournalStore {
        let inner: any JournalStore
        let starts = Mutex<[Int64]>([])
        init(_ inner: any JournalStore) { self.inner = inner }

        func read(_ ref: JournalRef, from cursor: Int64, limit: Int) async throws -> [JournalLine] {
            starts.withLock { $0.append(cursor) }
            return try await inner.read(ref, from: cursor, limit: limit)
        }

        func readWithCheckMark(_ ref: JournalRef, from cursor: Int64, limit: Int) async throws -> (lines: [JournalLine], checkMark: [UInt8]?) {
            starts.withLock { $0.append(cursor) }
            return try await inner.readWithCheckMark(ref, from: cursor, limit: limit)
        }
    }
}
