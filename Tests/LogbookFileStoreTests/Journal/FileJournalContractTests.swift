import Foundation
import LogbookCore
import LogbookFileStore
import LogbookStoreConformance
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What the file store adds to the conformance checks: a second store object on the same folder
/// stands for another process (its own descriptors, so `flock` and inotify behave as they would
/// across processes).
@Suite struct FileJournalContractTests {
    static let ref = JournalRef(planID: "EP-FILE", g: 3)

    static func hash(_ seq: Int, _ tag: String = "w") -> String { Digest256.of(Array("\(tag)\(seq)".utf8)).description }

    static func line(_ seq: Int, _ tag: String = "w") -> [UInt8] {
        Array(#"{"hash":"\#(hash(seq, tag))","seq":\#(seq)}"#.utf8) + [0x0A]
    }

    /// A journal of `n` lines (seq 0…n-1) in a new folder.
    static func journal(_ name: String, lines n: Int, ops: any FileOps = PosixFileOps(), rotateBytes: Int64 = 5 << 20) async throws -> FileJournalStore {
        let store = FileJournalStore(directory: TestSupport.tempDirectory(name), ops: ops, rotateBytes: rotateBytes)
        try await store.createJournal(ref, genesis: line(0))
        for s in 1..<max(1, n) { _ = try await store.append(ref, from: 0) { _ in [line(s)] } }
        return store
    }

    static func appendRaw(_ path: String, _ bytes: [UInt8]) throws {
        let h = try #require(FileHandle(forWritingAtPath: path))
        h.seekToEndOfFile()
        h.write(Data(bytes))
        try h.close()
    }

    @Test("a torn tail is a finding (not a line, not the head) until recover cuts it")
    func tornTailIsAFinding() async throws {
        let store = try await Self.journal("fj-torn", lines: 4)
        let head = try await store.head(Self.ref)
        let partial = Array(#"{"hash":"sha256:x","se"#.utf8)
        try Self.appendRaw(store.journalPath(Self.ref), partial)
        let f = try await store.findings(Self.ref)
        #expect(f.count == 1 && f.first?.kind == .tornTail && f.first?.bytes == partial.count)
        #expect(f.first?.message.contains("logbook recover") == true)
        #expect(try await store.head(Self.ref) == head)
        #expect(try await store.read(Self.ref, from: 0, limit: Int.max).count == 4)
        #expect(try store.tornTailBytes(Self.ref) == partial.count)
        #expect(try store.recover(Self.ref) == partial.count)
        #expect(try await store.findings(Self.ref).isEmpty)
    }

    @Test("seal is durable: another store object on the folder refuses appends, and the manifest says sealed")
    func sealIsSeenByOthers() async throws {
        let store = try await Self.journal("fj-seal", lines: 5)
        try await store.seal(Self.ref)
        let other = FileJournalStore(directory: store.directory)
        #expect(try await other.isSealed(Self.ref))
        let e = await #expect(throws: LogbookError.self) { _ = try await other.append(Self.ref, from: 0) { _ in [Self.line(5)] } }
        #expect(e?.code == .locked && e?.message.contains("sealed") == true)
        let manifest = try JSONParser.parse(TestSupport.bytes(store.manifestPath(Self.ref)))
        #expect(manifest["sealed"]?.boolValue == true && manifest["segments"]?.arrayValue?.count == 1)
        // Everything is in the segment now: the head comes from the manifest, the lines from gzip.
        #expect(try await other.head(Self.ref)?.seq == 4)
        #expect(try await other.read(Self.ref, from: 0, limit: Int.max).count == 5)
        #expect(try other.segments(Self.ref).sealed)
    }

    @Test("a segment file that is missing is a finding naming it")
    func missingSegmentIsAFinding() async throws {
        let store = try await Self.journal("fj-seg", lines: 40, rotateBytes: 300)
        let m = try store.segments(Self.ref)
        let first = try #require(m.segments.first)
        unlink(store.directory + "/" + first.file)
        let f = try await store.findings(Self.ref)
        #expect(f.contains { $0.kind == .segment && $0.message.contains(first.file) && $0.message.contains("missing") })
    }

    @Test("the head after a rotation that emptied the live file is the last segment's")
    func headAfterRotation() async throws {
        let store = try await Self.journal("fj-rot-head", lines: 30, rotateBytes: 200)
        let lines = try await store.read(Self.ref, from: 0, limit: Int.max)
        let head = try #require(try await store.head(Self.ref))
        #expect(head.seq == 29 && head.end == lines.last?.end && head.hash == Self.hash(29))
        // A seq in a segment is found by decoding that segment only; every line is found.
        let m = try store.segments(Self.ref)
        #expect(m.segments.count > 2)
        for l in lines {
            let seq = try #require(JournalHead.seq(l.bytes))
            #expect(try await store.line(atSeq: seq, hint: nil, Self.ref)?.end == l.end)
        }
    }

    @Test("another process's append wakes a change stream (inotify), and a cancelled stream releases its thread and descriptors")
    func changesAcrossStoreObjects() async throws {
        let store = try await Self.journal("fj-changes", lines: 2)
        let writer = FileJournalStore(directory: store.directory)
        let consumer = Task { () -> [Int] in
            var seqs: [Int] = []
            for await h in store.changes(Self.ref) {
                seqs.append(h.seq)
                if h.seq >= 4 { break }
            }
            return seqs
        }
        for s in 2...4 { _ = try await writer.append(Self.ref, from: 0) { _ in [Self.line(s)] } }
        let seqs = await consumer.value
        // Heads may be coalesced (the consumer may start after some appends): ascending, ending at 4.
        #expect((seqs.first ?? 0) >= 1 && seqs.last == 4 && seqs == seqs.sorted() && Set(seqs).count == seqs.count)
        var left = store.openChangeStreams
        for _ in 0..<5000 where left > 0 {
            try await Task.sleep(nanoseconds: 1_000_000)
            left = store.openChangeStreams
        }
        #expect(left == 0)
    }

    @Test("a reader in another process waits for a writer's sync and never sees a line whose sync failed")
    func readerInAnotherProcessNeverSeesAFailedSync() async throws {
        let gate = SyncGate()
        let store = try await Self.journal("fj-durable", lines: 3, ops: GatedSyncOps(gate))
        let reader = FileJournalStore(directory: store.directory)
        let before = try await reader.read(Self.ref, from: 0, limit: Int.max).map(\.bytes)
        gate.arm()
        let write = Task { try await store.append(Self.ref, from: 0) { _ in [Self.line(3, "lost")] } }
        await gate.reached()
        // The bytes are in the file now, unsynced: the other store's reads wait for the lock.
        #expect(TestSupport.bytes(store.journalPath(Self.ref)).count > before.reduce(0) { $0 + $1.count + 1 })
        let read = Task { try await reader.read(Self.ref, from: 0, limit: Int.max).map(\.bytes) }
        let head = Task { try await reader.head(Self.ref) }
        gate.release(succeed: false)
        let e = await #expect(throws: LogbookError.self) { try await write.value }
        #expect(e?.code == .indeterminate)
        #expect(try await read.value == before)
        #expect(try await head.value?.seq == 2)
        #expect(!String(decoding: TestSupport.bytes(store.journalPath(Self.ref)), as: UTF8.self).contains("lost"))
    }
}
