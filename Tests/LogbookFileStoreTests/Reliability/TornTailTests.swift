import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Testing

/// Torn tails: the last record cut at every byte offset, zeros and garbage appended; recovery
/// cuts only the partial last line, keeps a copy and says how much it removed. Damage before
/// the last record is never cut: verify reports it.
@Suite(.serialized) struct TornTailTests {
    /// A journal of 12 events (snapshot at seq 0) and its bytes.
    static func base() async throws -> (Workspace, PlanFile, [UInt8]) {
        let (ws, file) = try await TestSupport.lockedWorkspace("torn-every")
        // No snapshot by age (a loaded machine can take a second for these events): one at the
        // first commit only, so cutting the last event never leaves a snapshot ahead of the journal.
        let book = try await ws.engine.privateBook(file, snapshotMaxAge: Double.infinity)
        let key = try await ws.engine.signingKey(for: "WORKER")
        _ = try await book.submit(EventRequest(type: .started, task: "T1", persona: "WORKER"), signer: key)
        for p in 1...10 {
            _ = try await book.submit(EventRequest(type: .progress, task: "T1", persona: "WORKER",
                                                   data: ["percent": JSONValue(p * 9), "note": "a note with UTF-8 — ✓ to cut inside"]), signer: key)
        }
        return (ws, file, TestSupport.bytes(ws.store.journalPath(file.journalRef)))
    }

    static func tornCopies(_ ws: Workspace) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: ws.root)) ?? []).filter { $0.contains(".torn-") }
    }

    static func removeCopies(_ ws: Workspace) {
        for c in tornCopies(ws) { try? FileManager.default.removeItem(atPath: ws.root + "/" + c) }
    }

    @Test func theLastRecordCutAtEveryByteOffsetIsRecovered() async throws {
        let (ws0, file, full) = try await Self.base()
        let path = ws0.store.journalPath(file.journalRef)
        let (lines, _) = Workspace.splitLines(full)
        let lastStart = full.count - lines.last!.count - 1
        let intact = Array(full[0..<lastStart])
        var byRecover = 0, byWriter = 0
        // Keep k bytes of the last line, k = 1 … the whole line without its newline.
        for k in 1...lines.last!.count {
            overwrite(path, intact + full[lastStart..<(lastStart + k)])
            let ws = Workspace(root: ws0.root)  // a new process
            if k % 8 == 1 || k == lines.last!.count {
                let report = try await ws.engine.verify(file)
                #expect(report.ok && report.lastSeq == 10 && report.warnings.contains { $0.contains("\(k) bytes of a partial line") }, "k \(k): \(report)")
            } else {
                #expect(try ws.store.tornTailBytes(file.journalRef) == k)
            }
            if k % 2 == 0 {
                let removed = try ws.store.recover(file.journalRef)
                #expect(removed == k)
                #expect(TestSupport.bytes(path) == intact, "k \(k)")
                byRecover += 1
            } else {
                // The next writer cuts it and appends seq 11 after seq 10.
                let e = try await ws.engine.book(file).submit(EventRequest(type: .progress, task: "T1", persona: "WORKER", data: ["percent": 99]),
                                                       signer: try await ws.engine.signingKey(for: "WORKER"))
                #expect(e.seq == 11)
                #expect(Array(TestSupport.bytes(path).prefix(intact.count)) == intact)
                byWriter += 1
            }
            let copies = Self.tornCopies(ws)
            #expect(copies.count == 1 && TestSupport.bytes(ws.root + "/" + copies[0]) == Array(full[lastStart..<(lastStart + k)]), "k \(k)")
            #expect(try await ws.engine.verify(file).ok, "k \(k)")
            Self.removeCopies(ws)
            try? FileManager.default.removeItem(atPath: ws.store.snapshotPath(file.journalRef))
        }
        FaultSweep.report("torn tails, every byte offset", "the last record (\(lines.last!.count) bytes) cut at each of its \(lines.last!.count) offsets: \(byRecover) cut by `recover`, \(byWriter) by the next writer; every time exactly the partial bytes removed, a copy kept, seq 0–10 intact, the next seq 11, verify OK")
    }

    @Test(arguments: [1, 7, 512, 4096, 70_000, 2_500_000])
    func zerosAppendedAreATornTail(_ count: Int) async throws {
        let (ws, file, full) = try await Self.base()
        let path = ws.store.journalPath(file.journalRef)
        overwrite(path, full + [UInt8](repeating: 0, count: count))
        #expect(try ws.store.recover(file.journalRef) == count)
        let after = TestSupport.bytes(path)
        #expect(after.count == full.count && after == full)  // (counts first: no 2 MB diff on failure)
        #expect(try await ws.engine.verify(file).ok)
        // Zeros followed by a newline (a hole before a later durable line) are a complete damaged
        // line: never cut, reported.
        let holed = full + [UInt8](repeating: 0, count: count) + [0x0A]
        overwrite(path, holed)
        #expect(try ws.store.recover(file.journalRef) == 0)
        #expect(TestSupport.bytes(path).count == holed.count)
        let report = try await ws.engine.verify(file)
        #expect(!report.ok && report.failure?.seq == 12 && report.failure?.kind == .unparseable, "\(report)")
    }

    @Test func garbageAppendedIsCutOnlyAfterTheLastNewline() async throws {
        var rng = SeededRandom(seed: Reliability.seed)
        var cut = 0, reported = 0
        for round in 0..<40 {
            let (ws, file, full) = try await Self.base()
            let path = ws.store.journalPath(file.journalRef)
            var garbage = (0..<Int.random(in: 1...3000, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if round % 2 == 0 { garbage.removeAll { $0 == 0x0A } }
            overwrite(path, full + garbage)
            let afterLastNewline = garbage.lastIndex(of: 0x0A).map { garbage.count - $0 - 1 } ?? garbage.count
            let removed = try ws.store.recover(file.journalRef)
            #expect(removed == afterLastNewline)
            let kept = TestSupport.bytes(path)
            #expect(kept.count == full.count + garbage.count - afterLastNewline)
            let report = try await ws.engine.verify(file)
            if garbage.contains(0x0A) {
                // Complete garbage lines are damage, not a torn tail: reported at seq 12, never cut.
                #expect(!report.ok && report.failure?.seq == 12 && [VerifyReport.Kind.unparseable, .edited].contains(report.failure?.kind), "\(report)")
                reported += 1
            } else {
                #expect(report.ok && kept == full)
                cut += 1
            }
        }
        FaultSweep.report("torn tails, garbage appended", "\(cut) random garbage tails without a newline cut exactly; \(reported) with newlines: only the bytes after the last newline cut, the complete garbage lines reported by verify at seq 12")
    }

    @Test func damageBeforeTheLastRecordIsNeverCut() async throws {
        let (ws0, file, full) = try await Self.base()
        let path = ws0.store.journalPath(file.journalRef)
        let (lines, _) = Workspace.splitLines(full)
        var cases = 0
        for seq in 1..<(lines.count - 1) {
            // Damage line `seq` three ways: cut its end off (joining it to the next line), zero a
            // stretch of it, drop its newline.
            var starts: [Int] = []
            var at = 0
            for l in lines { starts.append(at); at += l.count + 1 }
            let s = starts[seq], len = lines[seq].count
            let head = Array(full[0..<(s + len / 2)]), tail = Array(full[(s + len + 1)...])
            let cutShort: [UInt8] = head + tail
            var zeroed = full
            for i in (s + 10)..<(s + 30) { zeroed[i] = 0 }
            var noNewline = full
            noNewline.remove(at: s + len)
            let variants: [(String, [UInt8])] = [("cut", cutShort), ("zeros", zeroed), ("no newline", noNewline)]
            for (name, damaged) in variants {
                overwrite(path, damaged)
                let ws = Workspace(root: ws0.root)
                #expect(try ws.store.recover(file.journalRef) == 0, "\(name) at seq \(seq) was cut")
                #expect(TestSupport.bytes(path) == damaged)
                let report = try await ws.engine.verify(file)
                #expect(!report.ok && report.failure?.seq == seq, "\(name) at seq \(seq): \(report.failure?.description ?? "ok")")
                // A writer refuses to build on it (and changes nothing).
                do {
                    _ = try await ws.engine.book(file).submit(EventRequest(type: .progress, task: "T1", persona: "WORKER", data: ["percent": 99]),
                                                       signer: try await ws.engine.signingKey(for: "WORKER"))
                    Issue.record("a writer appended after damage at seq \(seq) (\(name))")
                } catch let e as LogbookError {
                    #expect(e.code == .corrupt, "\(e)")
                }
                #expect(TestSupport.bytes(path) == damaged)
                cases += 1
            }
        }
        overwrite(path, full)
        FaultSweep.report("torn tails, damage before the last record", "\(cases) damaged journals (a line cut short, zeroed bytes, a lost newline, at seq 1–\(lines.count - 2)): never cut by recovery or a writer, each reported by verify at the damaged seq")
    }
}
