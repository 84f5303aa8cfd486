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
        _ = try await reader.state()
        let writer = try await ws.engine.book(file)
        let key = try await ws.engine.signingKey(for: "WORKER")
        _ = try await writer.submit(EventRequest(type: .started, task: "T1", persona: "WORKER"), signer: key)
        for i in 0..<20 { _ = try await writer.submit(Self.progress(i), signer: key) }

        let before = reader.signaturesChecked
        let state = try await reader.state()
        #expect(state.seq == 21)
        #expect(reader.signaturesChecked - before == 1, "21 lines behind a mark cost \(reader.signaturesChecked - before) signature checks")

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

    struct Forgery: Sendable, CustomTestStringConvertible {
        var name: String
        /// The mark to plant for a forged line (`seq`, `hash`); nil: keep the true one.
        var mark: @Sendable (_ ws: Workspace, _ file: PlanFile, _ seq: Int, _ hash: Digest256) throws -> String?
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
        Forgery(name: "the true mark, for the head before the forged line") { _, _, _, _ in nil },
    ]

    @Test(arguments: forgeries)
    func aMarkNeverCoversALineNoKeyHolderChecked(_ forgery: Forgery) async throws {
        let f = try await CLIFixture.make("check-mark-forged")
        try f.ok(["task", "start", "T1", "--persona", "WORKER"])
        try f.ok(["task", "progress", "T1", "--percent", "5", "--persona", "WORKER"])
        // The forger appends `done T1` as WORKER (right seq, prev, hash and key id, no key) and
        // plants a mark that claims it was checked.
        var lines = f.journalLines()
        let last = try Event(line: Array(lines.last!.utf8))
        var e = last
        e.seq = last.seq + 1
        e.prev = last.hash
        e.type = .done
        e.data = ["summary": "forged"]
        e.idempotencyKey = nil
        e.traceID = nil
        e.sig = [UInt8](repeating: 9, count: 64)
        e.hash = e.computedHash
        lines.append(String(decoding: e.line.dropLast(e.line.last == 0x0A ? 1 : 0), as: UTF8.self))
        f.writeJournal(lines: lines)
        if let mark = try forgery.mark(f.ws, f.plan, e.seq, e.hash) {
            try Self.plantMark(f.ws, f.plan, mark, end: Int64(TestSupport.bytes(f.journalPath).count))
        }
        let before = WorkspaceBytes(f.root)
        for args in [["task", "start", "T2", "--persona", "WORKER"], ["task", "progress", "T1", "--percent", "10", "--persona", "WORKER"],
                     ["status"], ["task", "list"]] {
            let r = try f.cli(args)
            expectOneLineError(r, code: 6, mentions: ["seq \(e.seq)", "signature"], "\(forgery.name): \(args.joined(separator: " "))")
        }
        #expect(before.changes(to: WorkspaceBytes(f.root)).isEmpty, "\(forgery.name): a command wrote after the forged line")
    }

    /// A covered line edited behind the tool's back, its hash and every later hash recomputed:
    /// the chain no longer reaches the true mark's hash, so the mark proves nothing and the
    /// edited line's signature is checked (and fails).
    @Test func anEditedCoveredLineIsCheckedAfterAll() async throws {
        let f = try await CLIFixture.make("check-mark-edited")
        try f.ok(["task", "start", "T1", "--persona", "WORKER"])
        for p in [10, 20, 30] { try f.ok(["task", "progress", "T1", "--percent", String(p), "--persona", "WORKER"]) }
        var events = try f.journalLines().map { try Event(line: Array($0.utf8)) }
        let edited = 2
        events[edited].data = ["percent": .number(15), "note": .string("edited")]
        for k in edited..<events.count {
            if k > edited { events[k].prev = events[k - 1].hash }
            events[k].hash = events[k].computedHash
        }
        f.writeJournal(lines: events.map { String(decoding: $0.line.dropLast(), as: UTF8.self) })
        let before = WorkspaceBytes(f.root)
        for args in [["task", "progress", "T1", "--percent", "40", "--persona", "WORKER"], ["status"]] {
            let r = try f.cli(args)
            expectOneLineError(r, code: 6, mentions: ["seq \(edited)", "signature"], args.joined(separator: " "))
        }
        #expect(before.changes(to: WorkspaceBytes(f.root)).isEmpty)
    }
}
