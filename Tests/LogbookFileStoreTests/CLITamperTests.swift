import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Testing

/// A real journal of a few dozen signed events (written through the library), its snapshot
/// written at the last seq, and what the tamper cases need to know about it.
struct TamperBase: Sendable {
    let f: CLIFixture
    /// The last seq of the untouched journal (the snapshot reflects it).
    let lastSeq: Int

    static func make(_ name: String) async throws -> TamperBase {
        let f = try await CLIFixture.make(name)
        let book = try await f.ws.engine.book(f.plan)
        var keys: [String: SigningKey] = [:]
        for p in ["SUPERVISOR", "WORKER", "WORKER2", "TESTER_BOT"] { keys[p] = try TestSupport.key(f.ws, p) }
        func put(_ type: EventType, _ task: String, _ persona: String, _ data: JSONObject = JSONObject()) async throws {
            _ = try await book.submit(EventRequest(type: type, task: task, persona: persona, data: data), signer: keys[persona])
        }
        // T1: seq 1–12; progress 10…90 at seq 2–10.
        try await put(.started, "T1", "WORKER")
        for p in stride(from: 10, through: 90, by: 10) { try await put(.progress, "T1", "WORKER", ["percent": JSONValue(p), "note": .string("step \(p)")]) }
        try await put(.testResult, "T1", "WORKER", ["suite": "unit", "passed": 12, "failed": 0, "skipped": 1])
        try await put(.done, "T1", "WORKER", ["summary": "T1 done"])
        // T4 fails once and is retried: seq 13–22.
        try await put(.started, "T4", "WORKER2")
        for p in [20, 40, 60] { try await put(.progress, "T4", "WORKER2", ["percent": JSONValue(p)]) }
        try await put(.failed, "T4", "WORKER2", ["reason": "flaky disk"])
        try await put(.retried, "T4", "WORKER2", ["reason": "new disk"])
        for p in [30, 70, 95] { try await put(.progress, "T4", "WORKER2", ["percent": JSONValue(p)]) }
        try await put(.done, "T4", "WORKER2")
        // T2: seq 23–28.
        try await put(.started, "T2", "WORKER")
        for p in [5, 15, 25, 35, 45] { try await put(.progress, "T2", "WORKER", ["percent": JSONValue(p)]) }
        // T5 by archetype, blocked and unblocked: seq 29–37.
        try await put(.started, "T5", "TESTER_BOT")
        for p in [10, 20, 30] { try await put(.progress, "T5", "TESTER_BOT", ["percent": JSONValue(p)]) }
        try await put(.blocked, "T5", "TESTER_BOT", ["reason": "waiting for T2"])
        try await put(.unblocked, "T5", "SUPERVISOR", ["reason": "decoupled"])
        try await put(.testResult, "T5", "TESTER_BOT", ["suite": "e2e", "passed": 3, "failed": 1])
        try await put(.progress, "T5", "TESTER_BOT", ["percent": 50])
        try await put(.achievement, "T5", "TESTER_BOT", ["summary": "found a race"])
        // seq 38–40.
        try await put(.progress, "T2", "WORKER", ["percent": 55])
        try await put(.achievement, "T1", "SUPERVISOR", ["summary": "milestone"])
        try await put(.waived, "T3", "SUPERVISOR", ["reason": "out of scope"])
        try await book.writeSnapshot()
        let base = TamperBase(f: f, lastSeq: 40)
        #expect(f.journalLines().count == 41)
        #expect(base.snapshotSeq == 40)
        return base
    }

    var snapshotSeq: Int? { (try? JSONParser.parse(TestSupport.bytes(f.snapshotPath)))?["journal"]?["seq"]?.intValue }

    /// The line of `seq` in the untouched journal.
    func line(_ seq: Int) -> String { f.journalLines()[seq] }

    /// Rewrites the journal with its lines changed by `edit`.
    func editLines(_ edit: (inout [String]) -> Void) {
        var lines = f.journalLines()
        edit(&lines)
        f.writeJournal(lines: lines)
    }

    /// A new event at the head: hashed correctly, signed by `signer`, claiming `keyID`.
    func forged(persona: String = "WORKER", task: String = "T2", keyID: String?, signer: SigningKey?) throws -> String {
        let last = try Event(line: Array(line(lastSeq).utf8))
        var e = Event.make(seq: lastSeq + 1, prev: last.hash, ts: Timestamp.string(Date()), g: last.g, plan: "EP-TEST", task: task,
                           persona: persona, type: .progress, data: ["percent": 60], signer: nil)
        e.keyID = keyID
        e.sig = signer?.sign(message: e.signedBytes)
        e.hash = e.computedHash
        return String(decoding: e.line.dropLast(), as: UTF8.self)
    }

    /// `logbook verify` in text and JSON modes; checks exit 6, the seq and the kind, and returns the message.
    @discardableResult
    func expectFailure(seq: Int?, kind: VerifyReport.Kind, mentions: [String] = [], _ context: String,
                       sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let text = try f.cli(["verify"])
        #expect(text.status == 6, "\(context): verify exit \(text.status): \(text.stdout)\(text.stderr)", sourceLocation: sourceLocation)
        #expect(text.stdout.isEmpty, "\(context): \(text.stdout)", sourceLocation: sourceLocation)
        let failLine = text.stderrLines.last.map(String.init) ?? ""
        let prefix = "verify FAILED: plan EP-TEST, " + (seq.map { "seq \($0): " } ?? "") + "\(kind.rawValue): "
        #expect(failLine.hasPrefix(prefix), "\(context): expected `\(prefix)…`, got: \(text.stderr)", sourceLocation: sourceLocation)
        for m in mentions {
            #expect(failLine.contains(m), "\(context): the failure should mention \(m): \(failLine)", sourceLocation: sourceLocation)
        }

        let json = try f.cli(["verify", "--json"])
        #expect(json.status == 6, "\(context): verify --json exit \(json.status): \(json.stderr)", sourceLocation: sourceLocation)
        let report = try JSONParser.parse(Array(json.stdout.utf8))
        #expect(report["ok"]?.boolValue == false, sourceLocation: sourceLocation)
        #expect(report["failure"]?["kind"]?.stringValue == kind.rawValue, "\(context): \(json.stdout)", sourceLocation: sourceLocation)
        #expect(report["failure"]?["seq"]?.intValue == seq, "\(context): \(json.stdout)", sourceLocation: sourceLocation)
        #expect(report["failure"]?["seq"]?.isNull == (seq == nil), sourceLocation: sourceLocation)
        return report["failure"]?["message"]?.stringValue ?? ""
    }

    /// Other commands on damaged files end with a clean exit (no crash, no trap).
    func expectNoCrash(_ context: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        for args in [["status"], ["status", "--json"], ["log"], ["task", "list"], ["task", "show", "T2"]] {
            let r = try f.cli(args)
            #expect([0, 2, 3, 4, 5, 6, 7].contains(r.status), "\(context): `logbook \(args.joined(separator: " "))` exit \(r.status): \(r.stderr)",
                    sourceLocation: sourceLocation)
            if r.status != 0 {
                // One error line: with --json, the JSON error object with the same exit.
                let json = args.contains("--json")
                let shaped = json ? (try? JSONParser.parse(Array(r.stderr.utf8)))?["error"]?["exit"]?.intValue == Int(r.status)
                    : r.stderr.hasPrefix("logbook: error: ")
                #expect(r.stderrLines.count == 1 && shaped && (!json || r.stdout.isEmpty), "\(context): \(args): \(r.stderr)",
                        sourceLocation: sourceLocation)
            }
        }
    }

    /// The snapshot a rebuild from scratch gives: every journal line replayed, at the journal's end.
    func rebuiltSnapshot() throws -> [UInt8] {
        let spec = try f.plan.document.spec()
        var state = StatusState(plan: spec)
        for l in f.journalLines() { try state.apply(try Event(line: Array(l.utf8))) }
        return PrettyJSON.bytes(state.snapshot())
    }
}

/// One way of tampering with the files behind the tool's back, and what `verify` must say.
struct Tamper: Sendable, CustomTestStringConvertible {
    let name: String
    let seq: Int?
    let kind: VerifyReport.Kind
    let mentions: [String]
    let apply: @Sendable (TamperBase) throws -> Void
    var testDescription: String { name }

    static let k = 17  // a T4 progress event in the middle of the journal

    static let all: [Tamper] = [
        Tamper(name: "edited field (a percent digit)", seq: 5, kind: .edited, mentions: ["hash"]) { b in
            b.editLines { lines in
                let before = lines[5]
                lines[5] = lines[5].replacingOccurrences(of: "\"percent\":40", with: "\"percent\":48")
                precondition(lines[5] != before)
            }
        },
        Tamper(name: "edited field, re-serialised with a space (not canonical)", seq: 5, kind: .edited, mentions: ["canonical"]) { b in
            b.editLines { $0[5] = $0[5].replacingOccurrences(of: "\"percent\":40", with: "\"percent\": 40") }
        },
        Tamper(name: "edited seq number", seq: k, kind: .edited, mentions: []) { b in
            b.editLines { $0[k] = $0[k].replacingOccurrences(of: "\"seq\":\(k),", with: "\"seq\":\(k - 1),") }
        },
        Tamper(name: "edited genesis (a task id in data.tasks)", seq: 0, kind: .edited, mentions: []) { b in
            b.editLines { $0[0] = $0[0].replacingOccurrences(of: "\"T5\"]", with: "\"T6\"]") }
        },
        Tamper(name: "line that is not JSON", seq: k, kind: .unparseable, mentions: []) { b in
            b.editLines { $0[k] = "{\"this is\": not an event" }
        },
        Tamper(name: "deleted line", seq: k, kind: .deleted, mentions: ["seq \(k) is missing"]) { b in
            b.editLines { $0.remove(at: k) }
        },
        Tamper(name: "two deleted lines", seq: k, kind: .deleted, mentions: ["seq \(k) is missing", "to \(k + 2)"]) { b in
            b.editLines { $0.removeSubrange(k...k + 1) }
        },
        Tamper(name: "deleted genesis", seq: 0, kind: .deleted, mentions: ["genesis"]) { b in
            b.editLines { $0.removeFirst() }
        },
        Tamper(name: "two swapped lines", seq: k, kind: .reordered, mentions: ["seq \(k + 1) comes before seq \(k)"]) { b in
            b.editLines { $0.swapAt(k, k + 1) }
        },
        Tamper(name: "two distant lines swapped", seq: k, kind: .reordered, mentions: ["seq \(k) appears later"]) { b in
            b.editLines { $0.swapAt(k, k + 6) }
        },
        Tamper(name: "genesis swapped with seq 1", seq: 0, kind: .reordered, mentions: []) { b in
            b.editLines { $0.swapAt(0, 1) }
        },
        Tamper(name: "last two lines swapped", seq: 39, kind: .reordered, mentions: []) { b in
            b.editLines { $0.swapAt(39, 40) }
        },
        Tamper(name: "duplicated line", seq: k, kind: .duplicated, mentions: ["seq \(k) appears twice"]) { b in
            b.editLines { $0.insert($0[k], at: k + 1) }
        },
        Tamper(name: "line duplicated further on", seq: k, kind: .duplicated, mentions: ["seq \(k) appears twice"]) { b in
            b.editLines { $0.insert($0[k], at: k + 5) }
        },
        Tamper(name: "line replayed at the end", seq: k, kind: .duplicated, mentions: ["seq \(k) appears twice"]) { b in
            b.editLines { $0.append($0[k]) }
        },
        Tamper(name: "event replaced, re-signed with the real key", seq: k + 1, kind: .chainBroken, mentions: ["prev"]) { b in
            let old = try Event(line: Array(b.line(k).utf8))
            let key = try TestSupport.key(b.f.ws, "WORKER2")
            let e = Event.make(seq: old.seq, prev: old.prev, ts: old.ts, g: old.g, plan: old.plan, task: old.task, persona: old.persona,
                               type: .progress, data: ["percent": 99], signer: key)
            b.editLines { $0[k] = String(decoding: e.line.dropLast(), as: UTF8.self) }
        },
        Tamper(name: "forged event: TESTER_BOT's key claiming WORKER's key_id", seq: 41, kind: .forgedSignature, mentions: ["WORKER"]) { b in
            let workerKeyID = try TestSupport.personas(b.f.ws)["WORKER"]!.keyID!
            let line = try b.forged(keyID: workerKeyID, signer: try TestSupport.key(b.f.ws, "TESTER_BOT"))
            b.editLines { $0.append(line) }
        },
        Tamper(name: "forged event: a brand-new key", seq: 41, kind: .forgedSignature, mentions: ["WORKER"]) { b in
            let key = SigningKey(generatingFor: "WORKER")
            let line = try b.forged(keyID: key.publicKey.keyID, signer: key)
            b.editLines { $0.append(line) }
        },
        Tamper(name: "forged event: a brand-new key claiming WORKER's key_id", seq: 41, kind: .forgedSignature, mentions: ["WORKER"]) { b in
            let workerKeyID = try TestSupport.personas(b.f.ws)["WORKER"]!.keyID!
            let line = try b.forged(keyID: workerKeyID, signer: SigningKey(generatingFor: "WORKER"))
            b.editLines { $0.append(line) }
        },
        Tamper(name: "forged event: unsigned", seq: 41, kind: .missingSignature, mentions: ["WORKER"]) { b in
            let line = try b.forged(keyID: nil, signer: nil)
            b.editLines { $0.append(line) }
        },
        Tamper(name: "forged event: signed by the real key but breaking a rule", seq: 41, kind: .illegalEvent, mentions: ["T3"]) { b in
            // T3 is WAIVED: a correctly signed progress event on it is still illegal.
            let key = try TestSupport.key(b.f.ws, "WORKER")
            let line = try b.forged(task: "T3", keyID: key.publicKey.keyID, signer: key)
            b.editLines { $0.append(line) }
        },
        Tamper(name: "edited locked plan (a task title)", seq: 0, kind: .planEdited, mentions: ["payload.tasks[1]", "T2"]) { b in
            let text = String(decoding: TestSupport.bytes(b.f.plan.path), as: UTF8.self)
            let edited = text.replacingOccurrences(of: "\"title\": \"Task T2\"", with: "\"title\": \"Task T2, quietly renamed\"")
            precondition(edited != text)
            _ = FileManager.default.createFile(atPath: b.f.plan.path, contents: Data(edited.utf8))
        },
        Tamper(name: "locked plan with its lock flags removed", seq: 0, kind: .planNotLocked, mentions: []) { b in
            let text = String(decoding: TestSupport.bytes(b.f.plan.path), as: UTF8.self)
            let edited = text.replacingOccurrences(of: "\"_tasks_list_immutable\": true", with: "\"_tasks_list_immutable\": false")
            precondition(edited != text)
            _ = FileManager.default.createFile(atPath: b.f.plan.path, contents: Data(edited.utf8))
        },
        Tamper(name: "key swapped in personas.json after lock", seq: 0, kind: .keySwapped, mentions: ["WORKER"]) { b in
            let old = try TestSupport.personas(b.f.ws)["WORKER"]!.publicKey!
            let new = SigningKey(generatingFor: "WORKER").publicKey
            let text = String(decoding: TestSupport.bytes(b.f.ws.personasPath), as: UTF8.self)
            let edited = text.replacingOccurrences(of: old.base64, with: new.base64).replacingOccurrences(of: old.keyID, with: new.keyID)
            precondition(edited != text)
            _ = FileManager.default.createFile(atPath: b.f.ws.personasPath, contents: Data(edited.utf8))
        },
        Tamper(name: "edited snapshot", seq: 40, kind: .snapshotMismatch, mentions: ["snapshot"]) { b in
            let text = String(decoding: TestSupport.bytes(b.f.snapshotPath), as: UTF8.self)
            let edited = text.replacingOccurrences(of: "\"tests_failed\": 1,", with: "\"tests_failed\": 0,")
            precondition(edited != text)
            _ = FileManager.default.createFile(atPath: b.f.snapshotPath, contents: Data(edited.utf8))
        },
        Tamper(name: "snapshot that is not JSON", seq: nil, kind: .snapshotMismatch, mentions: ["snapshot"]) { b in
            _ = FileManager.default.createFile(atPath: b.f.snapshotPath, contents: Data("{\"payload\": ".utf8))
        },
        Tamper(name: "journal truncated at a record boundary, snapshot at a later seq", seq: 30, kind: .truncated,
               mentions: ["reflects seq 40", "ends at seq 29"]) { b in
            b.editLines { $0.removeSubrange(30...) }
        },
        Tamper(name: "journal truncated to the genesis, snapshot at a later seq", seq: 1, kind: .truncated, mentions: ["reflects seq 40"]) { b in
            b.editLines { $0.removeSubrange(1...) }
        },
        Tamper(name: "empty journal", seq: nil, kind: .empty, mentions: []) { b in
            b.editLines { $0.removeAll() }
        },
    ]
}

@Suite struct CLITamperTests {
    /// Each kind of damage: `verify` exits 6 naming the seq and kind, in text and JSON; the other
    /// commands do not crash.
    @Test(arguments: Tamper.all)
    func verifyNamesTheSeqAndKind(_ t: Tamper) async throws {
        let b = try await TamperBase.make("tamper")
        let ok = try b.f.cli(["verify"])
        #expect(ok.status == 0, "the untouched journal should verify: \(ok.stderr)")
        try t.apply(b)
        try b.expectFailure(seq: t.seq, kind: t.kind, mentions: t.mentions, t.name)
        try b.expectNoCrash(t.name)
    }

    /// The snapshot is derived: deleted, verify still passes; the next reader (`status`, no key)
    /// puts it back unsealed, byte for byte what a rebuild from scratch gives; the next write
    /// seals it (the same bytes plus `journal.seal`).
    @Test func deletedSnapshotIsRebuilt() async throws {
        let b = try await TamperBase.make("nosnap")
        let original = TestSupport.bytes(b.f.snapshotPath)
        #expect(try b.rebuiltSnapshot() == original, "the library's snapshot should equal a rebuild from scratch")
        try FileManager.default.removeItem(atPath: b.f.snapshotPath)

        let verify = try b.f.cli(["verify", "--json"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(try JSONParser.parse(Array(verify.stdout.utf8))["ok"]?.boolValue == true)

        let status = try b.f.ok(["status", "--json"])
        #expect(Array(status.stdout.utf8) == original, "status --json should print the rebuilt snapshot")
        #expect(TestSupport.bytes(b.f.snapshotPath) == original, "the next reader should rebuild the deleted snapshot")
        try FileManager.default.removeItem(atPath: b.f.snapshotPath)
        try b.f.ok(["status"])
        #expect(TestSupport.bytes(b.f.snapshotPath) == original, "the human status rebuilds it too")

        try b.f.ok(["task", "progress", "T2", "--percent", "60", "--persona", "WORKER"])
        let rebuilt = TestSupport.bytes(b.f.snapshotPath)
        #expect(!rebuilt.isEmpty, "the next write should put the snapshot back")
        #expect(SnapshotSeal(try JSONParser.parse(rebuilt))?.persona == "WORKER", "a writer seals the snapshot it stores")
        #expect(SnapshotSeal.unsealedBytes(rebuilt) == (try b.rebuiltSnapshot()), "the rewritten snapshot should equal a rebuild from scratch")
        #expect(try JSONParser.parse(rebuilt)["journal"]?["seq"]?.intValue == 41)
        #expect(Array(try b.f.ok(["status", "--json"]).stdout.utf8) == SnapshotSeal.unsealedBytes(rebuilt))
        #expect(try b.f.cli(["verify"]).status == 0)
    }

    /// A partial last line (a writer died mid-write): verify passes with a warning; `recover`
    /// cuts it and keeps a copy; the next write works and the journal verifies.
    @Test func tornTailIsRecovered() async throws {
        let b = try await TamperBase.make("torn")
        let intact = TestSupport.bytes(b.f.journalPath)
        let partial = Array(b.line(12).utf8.prefix(57))
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: b.f.journalPath))
        try h.seekToEnd()
        try h.write(contentsOf: partial)
        try h.close()

        let text = try b.f.cli(["verify"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.hasPrefix("verify OK: plan EP-TEST, 41 events"), "\(text.stdout)")
        #expect(text.stderr.hasPrefix("warning: ") && text.stderr.contains("57 bytes") && text.stderr.contains("partial line"), "\(text.stderr)")
        let json = try b.f.cli(["verify", "--json"])
        #expect(json.status == 0)
        let report = try JSONParser.parse(Array(json.stdout.utf8))
        #expect(report["ok"]?.boolValue == true && report["last_seq"]?.intValue == 40)
        #expect(report["warnings"]?.arrayValue?.count == 1)

        let recover = try b.f.ok(["recover"])
        #expect(recover.stdout.contains("removed a torn tail of 57 bytes"), "\(recover.stdout)")
        #expect(TestSupport.bytes(b.f.journalPath) == intact, "recover should cut exactly the partial line")
        let copies = try FileManager.default.contentsOfDirectory(atPath: b.f.root).filter { $0.hasPrefix("exec_status_\(b.f.plan.g).journal.torn-") }
        #expect(copies.count == 1)
        if let c = copies.first { #expect(TestSupport.bytes(b.f.root + "/" + c) == partial, "the copy should hold the cut bytes") }
        #expect(try b.f.ok(["recover"]).stdout.contains("no torn tail"))

        let next = try b.f.ok(["task", "progress", "T2", "--percent", "60", "--persona", "WORKER"])
        #expect(next.stdout.hasPrefix("seq 41 "))
        let after = try b.f.cli(["verify"])
        #expect(after.status == 0 && after.stderr.isEmpty, "\(after.stderr)")
    }

    /// Without `recover`, the next writer cuts the torn tail itself and carries on.
    @Test func tornTailIsCutByTheNextWriter() async throws {
        let b = try await TamperBase.make("torn2")
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: b.f.journalPath))
        try h.seekToEnd()
        try h.write(contentsOf: Array("{\"archetype\":\"IMPL".utf8))
        try h.close()
        let next = try b.f.ok(["task", "progress", "T2", "--percent", "60", "--persona", "WORKER"])
        #expect(next.stdout.hasPrefix("seq 41 "))
        let after = try b.f.cli(["verify"])
        #expect(after.status == 0 && after.stderr.isEmpty, "\(after.stderr)")
        #expect(b.f.journalLines().count == 42)
    }
}
