import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Testing

/// Check marks (docs/FORMAT.md §4b): a book catching up on other processes' lines checks the
/// newest mark's signature instead of every line's, and a mark never makes it accept a line
/// that a key holder did not check: a forged, foreign or stale mark, or a covered line edited
/// behind the tool's back, sends the reader back to checking every line.
@Suite struct CheckMarkTests {
    static func progress(_ i: Int) -> EventRequest {
        EventRequest(type: .progress, task: "T1", persona: "WORKER", data: ["percent": .number(Double(i % 100)), "note": .string("step \(i)")])
    }

    /// Leaves only the durable record (the first 32 bytes) of `.exec_status_<g>.durable`.
    static func clearMarks(_ ws: Workspace, _ file: PlanFile) {
        _ = truncate(ws.store.durableMarkPath(file.journalRef), 32)
    }

    /// Writes `mark` (its stored text) into slot 0 for a batch ending at `end`, the other slots
    /// cleared: the layout FORMAT.md §4b documents (after the 32-byte durable record, 32 slots of
    /// 256 bytes: the batch end, u64 little-endian; the mark's length, u16 little-endian; its bytes).
    static func plantMark(_ ws: Workspace, _ file: PlanFile, _ mark: String, end: Int64) throws {
        let path = ws.store.durableMarkPath(file.journalRef)
        var bytes = Array(TestSupport.bytes(path).prefix(32))
        var slot: [UInt8] = []
        withUnsafeBytes(of: UInt64(end).littleEndian) { slot.append(contentsOf: $0) }
        let text = Array(mark.utf8)
        slot += [UInt8(text.count & 0xFF), UInt8(text.count >> 8)] + text
        slot += [UInt8](repeating: 0, count: 256 - slot.count)
        bytes += slot + [UInt8](repeating: 0, count: 31 * 256)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test func aBookCatchingUpChecksOneSignatureForTheLinesAMarkCovers() async throws {
        let (ws, file) = try await TestSupport.lockedWorkspace("check-mark")
        // Another process's view: its own workspace handle, store and book.
        let other = try Workspace.open(ws.root)
        let reader = try await other.engine.book(file)
        let writer = try await ws.engine.book(file)
        let key = try await ws.engine.signingKey(for: "WORKER")
        _ = try await reader.submit(EventRequest(type: .started, task: "T1", persona: "WORKER"), signer: key)
        // The writer folds the reader's line, so it knows another process writes and signs marks.
        for i in 0..<20 { _ = try await writer.submit(Self.progress(i), signer: key) }

        let before = reader.signaturesChecked
        let state = try await reader.state()
        #expect(state.seq == 21)
        #expect(reader.signaturesChecked - before == 1, "20 lines behind a mark cost \(reader.signaturesChecked - before) signature checks")

        // With the marks gone, the same catch-up checks every line.
        let second = try await Workspace.open(ws.root).engine.book(file)
        _ = try await second.state()
        for i in 20..<30 { _ = try await writer.submit(Self.progress(i), signer: key) }
        Self.clearMarks(ws, file)
        let base = second.signaturesChecked
        #expect(try await second.state().seq == 31)
        #expect(second.signaturesChecked - base == 10, "10 unmarked lines cost \(second.signaturesChecked - base) signature checks")
        #expect(try await ws.engine.verify(file).ok)
    }

    @Test func aLoneWriterSignsNoMarks() async throws {
        let (ws, file) = try await TestSupport.lockedWorkspace("check-mark-lone")
        let book = try await ws.engine.book(file)
        let key = try await ws.engine.signingKey(for: "WORKER")
        _ = try await book.submit(EventRequest(type: .started, task: "T1", persona: "WORKER"), signer: key)
        for i in 0..<5 { _ = try await book.submit(Self.progress(i), signer: key) }
        #expect(try await ws.store.loadCheckMark(file.journalRef) == nil)
        // Once it has folded another process's line, it does.
        let other = try await Workspace.open(ws.root).engine.book(file)
        _ = try await other.submit(Self.progress(6), signer: key)
        _ = try await book.submit(Self.progress(7), signer: key)
        let mark = try #require(try await ws.store.loadCheckMark(file.journalRef).flatMap { CheckMark(bytes: $0) })
        #expect(mark.seq == 8 && mark.keyID == key.publicKey.keyID)
    }

    struct Forgery: Sendable, CustomTestStringConvertible {
        var name: String
        /// The mark to plant for the forged line (`seq`, `hash`), read after the forgery is written.
        var mark: @Sendable (_ ws: Workspace, _ file: PlanFile, _ seq: Int, _ hash: Digest256) throws -> String
        var testDescription: String { name }
    }

    static let forgeries: [Forgery] = [
        Forgery(name: "a garbage mark signature") { ws, _, seq, hash in
            let kid = try TestSupport.key(ws, "WORKER").publicKey.keyID
            return "\(seq) \(hash) \(kid) \(Base64.encode([UInt8](repeating: 7, count: 64)))"
        },
        Forgery(name: "a mark signed by a key the journal does not record") { _, file, seq, hash in
            String(decoding: CheckMark(file.journalRef, seq: seq, hash: hash, signedBy: SigningKey(generatingFor: "WORKER")).bytes, as: UTF8.self)
        },
        Forgery(name: "a true key's mark for another journal") { ws, file, seq, hash in
            let elsewhere = JournalRef(planID: file.id, g: file.journalRef.g + 1)
            return String(decoding: CheckMark(elsewhere, seq: seq, hash: hash, signedBy: try TestSupport.key(ws, "WORKER")).bytes, as: UTF8.self)
        },
        Forgery(name: "a true mark for the head before the forged line") { ws, file, seq, _ in
            // What a true writer leaves behind: WORKER's key over the line before the forgery.
            let before = try #require(try TestSupport.bytes(ws.store.journalPath(file.journalRef)).split(separator: 0x0A).map { try Event(line: Array($0)) }.first { $0.seq == seq - 1 })
            return String(decoding: CheckMark(file.journalRef, seq: before.seq, hash: before.hash, signedBy: try TestSupport.key(ws, "WORKER")).bytes, as: UTF8.self)
        },
    ]

    @Test(arguments: forgeries)
    func aMarkNeverCoversALineNoKeyHolderChecked(_ forgery: Forgery) async throws {
        let f = try await CLIFixture.make("check-mark-forged")
        try f.ok(["task", "start", "T1", "--persona", "WORKER"])
        try f.ok(["task", "progress", "T1", "--percent", "5", "--persona", "WORKER"])
        // The forger appends `done T1` as WORKER (right seq, prev, hash and key id, no key) and
        // plants a mark that claims it was checked.
        let e = try f.appendForgedDone { _ in [UInt8](repeating: 9, count: 64) }
        try Self.plantMark(f.ws, f.plan, try forgery.mark(f.ws, f.plan, e.seq, e.hash), end: Int64(TestSupport.bytes(f.journalPath).count))
        try f.expectEveryCommandRefusesForgedLine(seq: e.seq, forgery.name)
    }

    /// A line under a true mark edited behind the tool's back, its hash and every later hash
    /// recomputed: the chain no longer reaches the mark's hash, so the mark proves nothing and
    /// the edited line's signature is checked (and fails), naming its seq; nothing is kept.
    @Test func anEditedCoveredLineIsCheckedAfterAll() async throws {
        let (ws, file) = try await TestSupport.lockedWorkspace("check-mark-edited")
        let key = try await ws.engine.signingKey(for: "WORKER")
        let reader = try await Workspace.open(ws.root).engine.book(file)
        let writer = try await ws.engine.book(file)
        let other = try await Workspace.open(ws.root).engine.book(file)
        _ = try await other.submit(EventRequest(type: .started, task: "T1", persona: "WORKER"), signer: key)
        for i in 0..<10 { _ = try await writer.submit(Self.progress(i), signer: key) }
        let mark = try #require(try await ws.store.loadCheckMark(file.journalRef).flatMap { CheckMark(bytes: $0) })
        #expect(mark.seq == 11)

        // seq 5's note "step 3" becomes "step X" (same length, so every position stays), and the
        // chain is rehashed from there: every line parses, hashes and links.
        let path = ws.store.journalPath(file.journalRef)
        var events = try TestSupport.bytes(path).split(separator: 0x0A).map { try Event(line: Array($0)) }
        let edited = 5
        events[edited].data = ["note": .string("step X"), "percent": .number(3)]
        for k in edited..<events.count {
            if k > edited { events[k].prev = events[k - 1].hash }
            events[k].hash = events[k].computedHash
        }
        let text = events.flatMap { $0.line.last == 0x0A ? $0.line : $0.line + [0x0A] }
        #expect(text.count == TestSupport.bytes(path).count)
        try Data(text).write(to: URL(fileURLWithPath: path))

        do {
            let s = try await reader.state()
            Issue.record("a reader accepted the edited journal up to seq \(s.seq)")
        } catch let e as LogbookError {
            #expect(e.code == .corrupt && e.seq == edited && e.rule == "signature", "\(e)")
        }
        #expect(try await ws.engine.verify(file).ok == false)
    }
}
