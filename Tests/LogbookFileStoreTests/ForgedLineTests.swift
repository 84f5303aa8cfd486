import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Testing

/// Issue 9 §1: a line appended behind the tool's back by someone without the persona's key
/// (valid JSON, valid hash chain, a signature that is not the key's) is never built on: every
/// writer and reader that folds it stops with exit 6 naming its seq, and nothing is written.
@Suite struct ForgedLineTests {
    struct Forgery: Sendable, CustomTestStringConvertible {
        var name: String
        /// Signs the forged `done` event (its statement final) claiming WORKER's key id.
        var sign: @Sendable (_ f: CLIFixture, _ e: Event) throws -> [UInt8]
        var testDescription: String { name }
    }

    static let forgeries: [Forgery] = [
        Forgery(name: "garbage signature") { _, _ in [UInt8](repeating: 7, count: 64) },
        Forgery(name: "signed by another persona's key") { f, e in try TestSupport.key(f.ws, "WORKER2").sign(message: e.signedBytes) },
        Forgery(name: "signature of another event") { f, _ in
            try TestSupport.key(f.ws, "WORKER").sign(message: Statement.signingBytes(Array("another statement".utf8)))
        },
    ]

    @Test(arguments: forgeries)
    func aForgedLineIsNeverBuiltOn(_ forgery: Forgery) async throws {
        let f = try await CLIFixture.make("forged-line")
        try f.ok(["task", "start", "T1", "--persona", "WORKER"])
        // On the true journal T2 waits for T1.
        let refused = try f.cli(["task", "start", "T2", "--persona", "WORKER"])
        #expect(refused.status == 3, "\(refused.stderr)")
        // The forger appends `done T1` as WORKER: right seq, prev, hash and key id; no key.
        var lines = f.journalLines()
        let last = try Event(line: Array(lines.last!.utf8))
        var e = last
        e.seq = last.seq + 1
        e.prev = last.hash
        e.type = .done
        e.data = ["summary": "forged"]
        e.idempotencyKey = nil
        e.traceID = nil
        e.sig = try forgery.sign(f, e)
        e.hash = e.computedHash
        lines.append(String(decoding: e.line.dropLast(e.line.last == 0x0A ? 1 : 0), as: UTF8.self))
        f.writeJournal(lines: lines)
        let before = WorkspaceBytes(f.root)
        for args in [["task", "start", "T2", "--persona", "WORKER"], ["task", "progress", "T1", "--percent", "10", "--persona", "WORKER"],
                     ["status"], ["task", "list"]] {
            let r = try f.cli(args)
            expectOneLineError(r, code: 6, mentions: ["seq \(e.seq)", "signature"], "\(forgery.name): \(args.joined(separator: " "))")
        }
        #expect(before.changes(to: WorkspaceBytes(f.root)).isEmpty, "\(forgery.name): a command wrote after the forged line")
        let v = try f.cli(["verify"])
        #expect(v.status == 6 && v.stderr.contains("seq \(e.seq)"), "\(v.stderr)")
    }
}
