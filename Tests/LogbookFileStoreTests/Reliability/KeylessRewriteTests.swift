import Foundation
import LogbookCore
import LogbookFileStore
import Testing

/// The attack envelope v1 made impossible and v2 must catch (docs/FORMAT.md §4a): someone who can
/// edit the journal but holds no key deletes, swaps or duplicates a middle event and recomputes
/// seq, prev and hash of every later line. Signatures still verify (they cover statements, not
/// positions); each later statement's signed `seen` head no longer matches, so verify fails
/// naming a seq. Only an unreferenced tail can be cut, which the held checkpoint catches.
@Suite(.serialized) struct KeylessRewriteTests {
    /// `lines` with `attack` applied at k and every line from k on re-numbered, re-chained and re-hashed.
    static func rewrite(_ attack: String, _ events: [Event], at k: Int) -> [[UInt8]] {
        var e = events
        switch attack {
        case "delete": e.remove(at: k)
        case "swap": e.swapAt(k, k + 1)
        default: e.insert(e[k], at: k + 1)  // duplicate
        }
        for i in k..<e.count {
            e[i].seq = i
            e[i].prev = e[i - 1].hash
            e[i].hash = e[i].computedHash
        }
        return e[k...].map { Array($0.line.dropLast()) }
    }

    @Test(arguments: ["delete", "swap", "duplicate"])
    func rewriteAMiddleEventAndRehash(_ attack: String) async throws {
        let j = try await TamperMatrixTests.Cache.shared.get()
        var t = TamperMatrixTests.Tally()
        for k in 1..<(j.n - 2) {
            let tail = Self.rewrite(attack, j.events, at: k)
            // Every rewritten line is well formed: canonical, hashed, chained, validly signed.
            let r = j.verify(from: k, tail)
            // The book signs with seen = the previous event, so the first statement after the
            // change sees a head that moved (delete, swap) or repeats one (duplicate).
            t.expect(r, seq: attack == "duplicate" ? k + 1 : k, [.seenMismatch, .duplicated], "\(attack) seq \(k), re-hashed without a key")
        }
        FaultSweep.report("tamper matrix, key-less rewrites", "\(attack) a middle event and re-hash the rest: \(t.summary)")
    }

    @Test func theRewrittenLinesAreOtherwiseValid() async throws {
        // The attack is real: without the seen check these journals would pass (chain, hashes and
        // signatures all hold); the seen reference is what catches them.
        let j = try await TamperMatrixTests.Cache.shared.get()
        let tail = Self.rewrite("delete", j.events, at: 10)
        for (i, l) in tail.enumerated() {
            let c = Verifier.precheck(JournalLine(bytes: l, end: 0), keys: j.registry.keysByID)
            #expect(c.isCanonical && c.isHashValid, "line \(10 + i)")
        }
        let r = j.verify(from: 10, tail)
        #expect(r.failure?.kind == .seenMismatch && r.failure?.seq == 10, "\(String(describing: r.failure))")
        #expect(r.failure?.message.contains("saw seq 10") == true, "\(String(describing: r.failure))")
    }

    @Test func anUnreferencedTailCutIsCaughtByTheCheckpoint() async throws {
        let j = try await TamperMatrixTests.Cache.shared.get()
        // No statement has seen the last event: cutting it leaves a valid journal...
        #expect(j.verify(from: j.n - 1, []).ok)
        // ...which the held checkpoint (of all n events) refuses, naming the first missing seq.
        let r = j.verify(from: j.n - 1, [], checkpoint: true)
        #expect(r.failure?.kind == .truncated && r.failure?.seq == j.n - 1, "\(String(describing: r.failure))")
    }
}
