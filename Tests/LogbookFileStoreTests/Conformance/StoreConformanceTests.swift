import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Testing

/// The definition of "a store": every backend runs these same tests (GRDB style: one body,
/// every writer). The PostgreSQL backend joins `Backend.all` when it exists.
enum Backend: String, CaseIterable, CustomTestStringConvertible {
    /// `rotatingFile`: the file store rotating every ~2 KiB, so that every test also runs with
    /// the journal spread over gzip segments and the live file.
    case memory, file, rotatingFile

    var testDescription: String { rawValue }

    func make() -> any JournalStore {
        switch self {
        case .memory: MemoryJournalStore()
        case .file: FileJournalStore(directory: TestSupport.tempDirectory("conf"))
        case .rotatingFile: FileJournalStore(directory: TestSupport.tempDirectory("conf-rot"), rotateBytes: 2048)
        }
    }
}

/// A locked plan, its personas and keys, created on a given store.
struct Fixture {
    let store: any JournalStore
    let ref: JournalRef
    let doc: PlanDocument
    let spec: PlanSpec
    let registry: PersonaRegistry
    let keys: [String: SigningKey]

    static func make(_ store: any JournalStore, planID: String = "EP-CONF") async throws -> Fixture {
        var keys: [String: SigningKey] = [:]
        var personas: [Persona] = []
        for (id, role, arch) in [("SUPERVISOR", PersonaRole.supervisor, "SUPERVISOR"), ("WORKER", .worker, "IMPLEMENTER"),
                                 ("WORKER2", .worker, "IMPLEMENTER"), ("TESTER_BOT", .worker, "TESTER")] {
            let k = SigningKey(generatingFor: id)
            keys[id] = k
            personas.append(Persona(id: id, role: role, archetype: arch, publicKey: k.publicKey))
        }
        let registry = PersonaRegistry(personas: personas)
        let doc = PlanDocument(json: TestSupport.planJSON(id: planID)).locked()
        let spec = try doc.spec(personas: registry)
        let ref = JournalRef(planID: planID, g: 1)
        let genesis = try Genesis.make(plan: doc, spec: spec, gPlan: 1, g: 2, registry: registry, locker: "SUPERVISOR",
                                       signer: keys["SUPERVISOR"], ts: Timestamp.string(Date()))
        try await store.createJournal(ref, genesis: genesis.line)
        return Fixture(store: store, ref: ref, doc: doc, spec: spec, registry: registry, keys: keys)
    }

    func book(interval: Int = 64) async throws -> StatusBook {
        try await StatusBook.open(store: store, ref: ref, plan: spec, options: .init(snapshotInterval: interval))
    }

    func submit(_ book: StatusBook, _ type: EventType, _ task: String?, _ persona: String, _ data: JSONObject = [:]) async throws -> Event {
        try await book.submit(EventRequest(type: type, task: task, persona: persona, data: data), signer: keys[persona])
    }

    func lines() async throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        try await store.forEachLine(ref) { out.append($0.bytes) }
        return out
    }
}

@Suite struct StoreConformanceTests {
    @Test(arguments: Backend.allCases)
    func createThenReadGivesTheGenesis(_ backend: Backend) async throws {
        let f = try await Fixture.make(backend.make())
        #expect(try await f.store.journalExists(f.ref))
        let lines = try await f.lines()
        #expect(lines.count == 1)
        let e = try Event(line: lines[0])
        #expect(e.seq == 0 && e.type == .created && e.prev == f.doc.digest)
    }

    @Test(arguments: Backend.allCases)
    func createIsRefusedWhenAJournalExists(_ backend: Backend) async throws {
        let f = try await Fixture.make(backend.make())
        await #expect(throws: LogbookError.self) {
            try await f.store.createJournal(f.ref, genesis: Array("{}\n".utf8))
        }
        #expect(try await f.lines().count == 1)
    }

    @Test(arguments: Backend.allCases)
    func missingJournalIsNotFound(_ backend: Backend) async throws {
        let store = backend.make()
        let ref = JournalRef(planID: "NOPE", g: 99)
        #expect(try await store.journalExists(ref) == false)
        do {
            _ = try await store.read(ref, from: 0, limit: 100)
            Issue.record("read of a missing journal succeeded")
        } catch let e as LogbookError {
            #expect(e.code == .notFound)
        }
    }

    @Test(arguments: Backend.allCases)
    func appendShowsTheLinesOthersWroteAndReturnsTheEnd(_ backend: Backend) async throws {
        let f = try await Fixture.make(backend.make())
        let a = try await f.book(), b = try await f.book()
        _ = try await f.submit(a, .started, "T1", "WORKER")
        // b has not seen seq 1; its append must fold it in first and continue the chain.
        let e2 = try await f.submit(b, .progress, "T1", "WORKER", ["percent": 30])
        #expect(e2.seq == 2)
        let lines = try await f.lines()
        #expect(lines.count == 3)
        #expect(try Event(line: lines[2]).prev == (try Event(line: lines[1])).hash)
        let seen = try await a.state()
        #expect(seen.seq == 2 && seen.task("T1")?.percent == 30)
    }

    @Test(arguments: Backend.allCases)
    func aThrowingBuildWritesNothing(_ backend: Backend) async throws {
        let f = try await Fixture.make(backend.make())
        struct Boom: Error {}
        await #expect(throws: Boom.self) {
            _ = try await f.store.append(f.ref, from: 0) { _ in throw Boom() }
        }
        #expect(try await f.lines().count == 1)
    }

    @Test(arguments: Backend.allCases)
    func refusedEventsWriteNothing(_ backend: Backend) async throws {
        let f = try await Fixture.make(backend.make())
        let book = try await f.book()
        let before = try await f.lines()
        await #expect(throws: LogbookError.self) { _ = try await f.submit(book, .progress, "T1", "WORKER", ["percent": 10]) }
        await #expect(throws: LogbookError.self) { _ = try await f.submit(book, .started, "T2", "WORKER") }
        await #expect(throws: LogbookError.self) { _ = try await f.submit(book, .started, "T1", "WORKER2") }
        #expect(try await f.lines() == before)
    }

    @Test(arguments: Backend.allCases)
    func readPagesThroughEveryLineInOrder(_ backend: Backend) async throws {
        let f = try await Fixture.make(backend.make())
        let book = try await f.book()
        _ = try await f.submit(book, .started, "T1", "WORKER")
        for p in 1...40 { _ = try await f.submit(book, .progress, "T1", "WORKER", ["percent": JSONValue(p)]) }
        var seqs: [Int] = []
        var cursor: Int64 = 0
        while true {
            let page = try await f.store.read(f.ref, from: cursor, limit: 700)
            guard let last = page.last else { break }
            #expect(last.end > cursor)
            for l in page { seqs.append(try Event(line: l.bytes).seq) }
            cursor = last.end
        }
        #expect(seqs == Array(0...41))
    }

    @Test(arguments: Backend.allCases)
    func snapshotsNeverGoBackwards(_ backend: Backend) async throws {
        let f = try await Fixture.make(backend.make())
        try await f.store.storeSnapshot(f.ref, Array(#"{"journal":{"seq":5}}"#.utf8), seq: 5)
        try await f.store.storeSnapshot(f.ref, Array(#"{"journal":{"seq":3}}"#.utf8), seq: 3)
        #expect(try await f.store.loadSnapshot(f.ref) == Array(#"{"journal":{"seq":5}}"#.utf8))
        try await f.store.storeSnapshot(f.ref, Array(#"{"journal":{"seq":9}}"#.utf8), seq: 9)
        #expect(try await f.store.loadSnapshot(f.ref) == Array(#"{"journal":{"seq":9}}"#.utf8))
    }

    /// Readers of a book while its group commits run: never an error, never a seq going back,
    /// and every state they see is a prefix the journal ends up holding.
    @Test(arguments: Backend.allCases)
    func readersDuringCommitsSeeConsistentStates(_ backend: Backend) async throws {
        let f = try await Fixture.make(backend.make())
        let book = try await f.book(interval: 16)
        _ = try await f.submit(book, .started, "T1", "WORKER")
        let writers = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for t in 0..<8 {
                    group.addTask { for i in 0..<20 { _ = try await f.submit(book, .progress, "T1", "WORKER", ["percent": JSONValue((t * 20 + i) % 101)]) } }
                }
                try await group.waitForAll()
            }
        }
        var seen: [(Int, Digest256?)] = []
        var last = -1
        while !writers.isCancelled {
            let s = try await book.state()
            #expect(s.seq >= last, "a reader's seq went back from \(last) to \(s.seq)")
            last = s.seq
            seen.append((s.seq, s.head))
            if s.seq >= 161 { break }
            await Task.yield()
        }
        try await writers.value
        let events = try await f.lines().map { try Event(line: $0) }
        #expect(events.count == 162)
        for (seq, head) in seen { #expect(events[seq].hash == head, "the state at seq \(seq) is not the journal's") }
    }

    @Test(arguments: Backend.allCases)
    func manyConcurrentWritersLoseNothing(_ backend: Backend) async throws {
        let f = try await Fixture.make(backend.make())
        // Four books (as four agents in one process would have) and 16 tasks each appending.
        var books: [StatusBook] = []
        for _ in 0..<4 { books.append(try await f.book(interval: 50)) }
        _ = try await f.submit(books[0], .started, "T1", "WORKER")
        let perTask = 25, tasks = 16
        let hashes = try await withThrowingTaskGroup(of: [Digest256].self) { group in
            for t in 0..<tasks {
                let book = books[t % books.count]
                group.addTask {
                    var out: [Digest256] = []
                    for i in 0..<perTask {
                        out.append(try await f.submit(book, .progress, "T1", "WORKER", ["percent": JSONValue((t + i) % 101)]).hash)
                    }
                    return out
                }
            }
            return try await group.reduce(into: [Digest256]()) { $0 += $1 }
        }
        let lines = try await f.lines()
        #expect(lines.count == 2 + perTask * tasks)
        let events = try lines.map { try Event(line: $0) }
        #expect(events.map(\.seq) == Array(0..<lines.count))
        #expect(Set(hashes).isSubset(of: Set(events.map(\.hash))) && Set(hashes).count == hashes.count)
        var v = Verifier(plan: f.doc, spec: f.spec, registry: f.registry, snapshot: nil)
        for (i, l) in lines.enumerated() { v.feed(JournalLine(bytes: l, end: Int64(i))) }
        let report = v.finish()
        #expect(report.ok, "\(report.failure?.description ?? "")")
    }

    @Test(arguments: Backend.allCases)
    func theSnapshotRebuildsBitForBit(_ backend: Backend) async throws {
        let f = try await Fixture.make(backend.make())
        let book = try await f.book(interval: 3)
        _ = try await f.submit(book, .started, "T1", "WORKER")
        _ = try await f.submit(book, .progress, "T1", "WORKER", ["percent": 50, "note": "half"])
        _ = try await f.submit(book, .testResult, "T1", "WORKER", ["suite": "unit", "passed": 4, "failed": 1])
        _ = try await f.submit(book, .done, "T1", "WORKER", ["summary": "ok"])
        _ = try await f.submit(book, .blocked, "T4", "WORKER2", ["reason": "waiting"])
        _ = try await f.submit(book, .achievement, "T1", "SUPERVISOR", ["summary": "first task"])
        try await book.writeSnapshot()
        let stored = try #require(try await f.store.loadSnapshot(f.ref))
        // A fresh reader from the snapshot and one from scratch agree with the file byte for byte.
        let (fromSnapshot, _) = try await f.book().snapshotBytes()
        var state = StatusState(plan: f.spec)
        var end: Int64 = 0
        try await f.store.forEachLine(f.ref) { line in
            let e = try Event(line: line.bytes)
            try state.apply(e)
            end = line.end
        }
        #expect(fromSnapshot == stored)
        #expect(PrettyJSON.bytes(state.snapshot(cursor: end)) == stored)
    }

    @Test(arguments: Backend.allCases)
    func readersAreExactBeyondTheSnapshot(_ backend: Backend) async throws {
        let f = try await Fixture.make(backend.make())
        let writer = try await f.book(interval: 1000)  // the stored snapshot stays at seq 0
        _ = try await f.submit(writer, .started, "T1", "WORKER")
        for p in [10, 20, 30] { _ = try await f.submit(writer, .progress, "T1", "WORKER", ["percent": JSONValue(p)]) }
        let reader = try await f.book()
        let s = try await reader.state()
        #expect(s.seq == 4 && s.task("T1")?.percent == 30)
    }
}
