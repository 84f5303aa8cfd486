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
        let e = try f.appendForgedDone { try forgery.sign(f, $0) }
        try f.expectEveryCommandRefusesForgedLine(seq: e.seq, forgery.name)
        let v = try f.cli(["verify"])
        #expect(v.status == 6 && v.stderr.contains("seq \(e.seq)"), "\(v.stderr)")
    }
}
