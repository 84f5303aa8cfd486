import Foundation
import Testing
import LogbookCore
import LogbookStoreConformance

/// Runs `tools/logbook_format.py` with python3.
enum FormatScript {
    static let ci = ProcessInfo.processInfo.environment["CI"] == "true"
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../tools/logbook_format.py").standardizedFileURL.path
    static let runnable: Bool = (try? run(["-c", "import rfc8785, cryptography"]).status) == 0

    static func run(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        let r = try Spawn.run("/usr/bin/env", ["python3"] + args, environment: ProcessInfo.processInfo.environment)
        return (r.status, String(decoding: r.stdout, as: UTF8.self), String(decoding: r.stderr, as: UTF8.self))
    }
}

/// `tools/logbook_format.py`, written from docs/FORMAT.md alone (Python, `rfc8785` and
/// `cryptography`), against the Swift code: it verifies a journal the Swift code wrote, finds the
/// key-less rewrites, and signs a statement that the Swift code then appends and verifies.
///
/// Without python3 and both modules the suite is skipped with that message, except when
/// `CI=true`: then it fails.
@Suite("Independent format script (tools/logbook_format.py)", .enabled(if: FormatScript.runnable || FormatScript.ci,
                                                                       "python3 with rfc8785 and cryptography not found (pip install rfc8785 cryptography); with CI=true this fails"))
struct IndependentScriptTests {
    func requireScript() throws {
        guard FormatScript.runnable else {
            Issue.record("CI=true but python3 with rfc8785 and cryptography is not available: pip install rfc8785 cryptography")
            throw LogbookError(.unsupported, "no python3")
        }
    }

    func temp(_ name: String, _ bytes: [UInt8]) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("logbook-format-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    func journal(_ lines: [[UInt8]]) -> [UInt8] { lines.flatMap { $0 + [0x0A] } }

    /// A journal with facts (started, retried), a late statement and a key-less statement shape.
    func world() async throws -> Fixture.World {
        let w = try await Fixture.world()
        try await w.submit(.started, "T1", by: "DEV")
        try await w.submit(.started, "T4", by: "DEV")
        try await w.submit(.failed, "T4", by: "DEV", ["reason": "flaky — ✓ UTF-8"])
        try await w.submit(.retried, "T4", by: "DEV", ["reason": "again"])
        try await w.submit(.progress, "T1", by: "DEV", ["percent": 40, "note": "half \"quoted\" \\ done"])
        let old = Statement.Seen(seq: 1, hash: try await w.book.event(at: 1).hash)
        _ = try await w.book.submit(SignedStatement(Statement(plan: Fixture.planID, task: "T1", persona: "DEV", keyID: Fixture.dev.publicKey.keyID,
                                                              type: .progress, data: ["percent": 45], at: "2024-12-31T23:00:00.000Z", seen: old),
                                                    signer: Fixture.dev))
        try await w.submit(.done, "T1", by: "DEV", ["summary": "ok"])
        return w
    }

    @Test("it verifies a journal the Swift code wrote, and reports the head verify reports")
    func verifiesSwiftJournal() async throws {
        try requireScript()
        let w = try await world()
        let r = try FormatScript.run([FormatScript.path, "verify", try temp("journal.jsonl", journal(try await w.lines()))])
        let head = try await w.book.state().head!
        #expect(r.status == 0, "\(r.out)\(r.err)")
        #expect(r.out == "ok 8 \(head)\n", "\(r.out)\(r.err)")
        #expect(try await w.verify().ok)
    }

    @Test("it fails, naming a seq, on the key-less rewrites the seen references catch", arguments: ["delete", "swap", "duplicate"])
    func catchesRewrites(_ attack: String) async throws {
        try requireScript()
        let w = try await world()
        let lines = try KeylessRewrite.apply(attack, to: try await w.lines(), at: 2)
        let r = try FormatScript.run([FormatScript.path, "verify", try temp("journal.jsonl", journal(lines))])
        #expect(r.status == 1, "\(attack): \(r.out)\(r.err)")
        #expect(r.out.hasPrefix("seq "), "\(attack): \(r.out)\(r.err)")
        #expect(r.out.contains("saw seq") || r.out.contains("already appended"), "\(attack): \(r.out)")
    }

    @Test("a statement the script signed is appended by the Swift code, which holds no key, and both verify the journal")
    func scriptSignsSwiftAppends() async throws {
        try requireScript()
        let w = try await world()
        let state = try await w.book.state()
        let stmt: JSONValue = .object(JSONObject([
            ("plan", .string(Fixture.planID)), ("task", "T4"), ("persona", "DEV"), ("type", "progress"),
            ("data", ["percent": 70, "note": "signed in Python — ✓"]), ("at", "2025-01-01T00:00:09.000Z"),
            ("seen", .object(JSONObject([("seq", .number(Double(state.seq))), ("hash", .string(state.head!.description))]))),
        ]))
        let stmtPath = try temp("stmt.json", PrettyJSON.bytes(stmt))
        let keyPath = try temp("DEV.key", Array(Fixture.dev.fileText.utf8))
        let r = try FormatScript.run([FormatScript.path, "sign", stmtPath, keyPath])
        #expect(r.status == 0, "\(r.out)\(r.err)")
        let out = try JSONParser.parse(Array(r.out.utf8.dropLast()))
        let bytes = CanonicalJSON.bytes(try #require(out["stmt"]))
        #expect(r.out.contains(String(decoding: bytes, as: UTF8.self)), "the script prints the stmt bytes verbatim")
        let signed = try SignedStatement(bytes: bytes, sig: try #require(out["sig"]?.stringValue.flatMap(Base64.decode)))
        #expect(signed.statement.keyID == Fixture.dev.publicKey.keyID)
        let e = try await w.book.submit(signed)
        #expect(e.seq == state.seq + 1 && e.data["note"] == "signed in Python — ✓")
        let report = try await w.verify()
        #expect(report.ok, "\(String(describing: report.failure))")
        let again = try FormatScript.run([FormatScript.path, "verify", try temp("journal.jsonl", journal(try await w.lines()))])
        #expect(again.status == 0 && again.out == "ok \(e.seq + 1) \(e.hash)\n", "\(again.out)\(again.err)")
    }
}

/// Rewrites of a journal by someone who can edit the file but holds no key: events removed,
/// swapped or duplicated, then seq, prev and hash recomputed for every later line (v1's
/// signatures covered seq and prev, so this was impossible there; v2 signs `seen` instead).
enum KeylessRewrite {
    static func apply(_ attack: String, to lines: [[UInt8]], at k: Int) throws -> [[UInt8]] {
        var events = try lines.map { try Event(line: $0) }
        switch attack {
        case "delete": events.remove(at: k)
        case "swap": events.swapAt(k, k + 1)
        case "duplicate": events.insert(events[k], at: k + 1)
        default: throw LogbookError(.badInput, "unknown attack \(attack)")
        }
        // Re-number and re-chain from the change on (facts, signatures and statements kept).
        for i in k..<events.count {
            events[i].seq = i
            events[i].prev = events[i - 1].hash
            events[i].hash = events[i].computedHash
        }
        return events.map { Array($0.line.dropLast()) }
    }
}
