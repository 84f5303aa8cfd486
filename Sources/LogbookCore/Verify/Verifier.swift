import Dispatch
import Foundation

/// Checks a status journal line by line in constant memory (SPEC §9).
///
/// Feed every line in order with ``feed(_:)``, then call ``finish()``. The first failure stops
/// the check and is reported with its seq and kind; nothing is ever repaired here.
///
/// ```swift
/// var v = Verifier(plan: doc, spec: spec, registry: personas, snapshot: snapBytes)
/// try await store.forEachLine(ref) { v.feed($0) }
/// let report = v.finish()
/// ```
public struct Verifier {
    let plan: PlanDocument
    let registry: PersonaRegistry
    let snapshot: [UInt8]?
    let snapshotSeq: Int?
    /// Whether the snapshot is of this version's schema; one of an earlier Logbook is not read by
    /// anyone (readers replay instead), so it is not compared, only reported.
    let snapshotIsCurrent: Bool
    var state: StatusState
    var report: VerifyReport
    /// Set when a line skips ahead of the expected seq: the rest of the journal is scanned for the
    /// missing seq, so a line that turns up later is a reordering and one that never does a deletion.
    var gap: (missing: Int, found: Int)?
    /// The hashes of the last ``recentCount`` events by seq, to tell a copied line from a different
    /// event that claims an earlier seq (constant memory).
    var recent = [Digest256?](repeating: nil, count: Verifier.recentCount)
    static let recentCount = 1024
    var lastTimeMS: Int64?
    /// This machine's clock when the check started: timestamps well ahead of it are a warning.
    let clockMS = Int64(Date().timeIntervalSince1970 * 1000)
    /// How far ahead of ``clockMS`` a timestamp may be before it is reported (5 minutes).
    static let aheadToleranceMS: Int64 = 5 * 60 * 1000
    var keys: [String: PublicKey] = [:]
    /// The keys the journal itself records (genesis, `key_changed`): signatures are checked with these.
    var journalKeys = TrustedKeys()
    /// Every event's chain hash, 32 bytes per seq, contiguous (seq k at offset 32·k): what a
    /// statement's `seen` reference is checked against. 32 bytes per event (32 MB per million).
    var hashes: [UInt8] = []
    /// Every event's statement digest (SHA-256 of its `stmt` bytes), the same layout: a statement
    /// appended twice is found by a scan of the events after its `seen.seq`.
    var statements: [UInt8] = []

    public init(plan: PlanDocument, spec: PlanSpec, registry: PersonaRegistry, snapshot: [UInt8]?) {
        self.plan = plan
        self.registry = registry
        // The seal (journal.seal) is not part of the state: the rest is compared byte for byte.
        self.snapshot = snapshot.map(SnapshotSeal.unsealedBytes)
        let parsed = snapshot.flatMap { try? JSONParser.parse($0) }
        self.snapshotSeq = parsed?["journal"]?["seq"]?.intValue
        self.snapshotIsCurrent = StatusState.isCurrentSnapshot(parsed)
        self.state = StatusState(plan: spec)
        self.report = VerifyReport(plan: spec.id)
        keys = registry.keysByID
    }

    public var failed: Bool { report.failure != nil }

    mutating func fail(_ seq: Int?, _ kind: VerifyReport.Kind, _ msg: String) {
        if report.failure == nil { report.failure = .init(seq: seq, kind: kind, message: msg) }
    }

    /// Checks the next line.
    public mutating func feed(_ line: JournalLine) {
        guard report.failure == nil else { return }
        feed(line, Verifier.precheck(line, keys: keys))
    }

    /// Checks the next lines, in order, with their ``LineCheck``s from ``precheck(_:keys:)``
    /// (which may run ahead, on other cores).
    public mutating func feed(_ lines: [JournalLine], checks: [LineCheck]) {
        precondition(lines.count == checks.count)
        for (line, c) in zip(lines, checks) {
            guard report.failure == nil else { return }
            feed(line, c)
        }
    }

    /// The keys signatures are checked with (personas.json's, by key id), for ``precheck(_:keys:)``.
    public var signatureKeys: [String: PublicKey] { keys }

    mutating func feed(_ line: JournalLine, _ pre: LineCheck) {
        if let g = gap {
            // Only looking for the missing seq now.
            if let e = pre.event, e.seq == g.missing {
                fail(g.missing, .reordered, g.found == g.missing + 1
                     ? "seq \(g.found) comes before seq \(g.missing) (lines swapped)"
                     : "seq \(g.missing) appears later in the journal; seq \(g.found) stands in its place (lines out of order)")
            }
            return
        }
        let expected = state.seq + 1
        guard let e = pre.event else {
            fail(expected, .unparseable, "line \(expected + 1) of the journal is not a valid event: \(pre.parseError ?? "unparseable")")
            return
        }
        // Content first: a line whose bytes or hash do not match was edited, whatever seq it claims.
        if !pre.canonical {
            fail(expected, .edited, "line \(expected + 1) (seq \(e.seq)) is not in canonical form (its bytes were changed)")
            return
        }
        if !pre.hashMatches {
            fail(expected, .edited, "line \(expected + 1) (seq \(e.seq)): the content does not match its hash \(e.hash) (an edited field)")
            return
        }
        if e.seq > expected {
            gap = (expected, e.seq)
            return
        }
        if e.seq < expected {
            if state.seq - e.seq < Verifier.recentCount, let h = recent[e.seq % Verifier.recentCount], h != e.hash {
                fail(e.seq, .inserted, "a second, different event claims seq \(e.seq) after seq \(state.seq)")
            } else {
                fail(e.seq, .duplicated, "seq \(e.seq) appears twice (again after seq \(state.seq))")
            }
            return
        }
        check(line, e, pre)
    }

    mutating func check(_ line: JournalLine, _ e: Event, _ pre: LineCheck) {
        let seq = e.seq
        if seq == 0 {
            checkGenesis(e)
            if failed { return }
            journalKeys.note(e)
        } else if e.prev != state.head {
            fail(seq, .chainBroken, "prev \(e.prev) is not the hash of seq \(seq - 1) (\(state.head?.description ?? "none")): an event was inserted or replaced")
            return
        }
        // The head its statement saw: before it, and this journal's event at that seq. A signed
        // `seen` pins every event up to it: an event removed, moved, added or edited before it
        // changes the hash found there.
        let seen = e.seen
        guard seen.seq < seq else {
            fail(seq, .seenMismatch, "its statement saw seq \(seen.seq), not an event before it (events before it were removed or moved)")
            return
        }
        let actual = seen.seq == -1 ? (seq == 0 ? e.prev : state.planDigest) : hash(at: seen.seq)
        guard actual == seen.hash else {
            fail(seq, .seenMismatch, "its statement saw seq \(seen.seq) with hash \(seen.hash), but seq \(seen.seq) here is \(actual?.description ?? "none"): an event at or before seq \(seen.seq) was removed, moved, inserted or changed")
            return
        }
        let digest = pre.statementDigest!
        if let first = firstSeq(of: digest, after: seen.seq) {
            fail(seq, .duplicated, "its statement is the statement of seq \(first) again (a statement is appended once)")
            return
        }
        // Signature: by the key the plan trusts for this persona, as the journal records it.
        if let sig = e.sig {
            guard let kid = e.keyID else { fail(seq, .forgedSignature, "signature without a key_id"); return }
            let trusted = seq == 0 ? kid : state.personas[e.persona]?.keyID
            guard kid == trusted else {
                fail(seq, .forgedSignature, "signed with key \(kid), but the plan trusts \(trusted ?? "no key") for \(e.persona)")
                return
            }
            guard let pk = journalKeys[kid] else {
                fail(seq, .unknownKey, "key \(kid) is not recorded in the journal (genesis or key_changed)")
                return
            }
            // The signed bytes are sliced from the line (never re-serialised).
            let valid = pk.persona == e.persona && (pre.verifiedWith == pk ? pre.signatureValid
                : pk.isValid(signature: sig, message: Statement.signingBytes(Array(line.bytes[pre.statementRange!]))))
            guard valid else {
                fail(seq, .forgedSignature, "the signature does not verify with \(kid)")
                return
            }
        } else {
            if let kid = (seq == 0 ? nil : state.personas[e.persona]?.keyID) {
                fail(seq, .missingSignature, "persona \(e.persona) must sign with \(kid); the event is unsigned")
                return
            }
            report.unsigned += 1
        }
        do { try state.apply(e) } catch {
            fail(seq, .illegalEvent, error.description)
            return
        }
        if let t = Timestamp.parse(e.ts) {
            if let last = lastTimeMS, t < last {
                report.warnings.append("seq \(seq): timestamp \(e.ts) is earlier than the previous event's (clock skew; order is seq)")
            }
            if t > clockMS + Verifier.aheadToleranceMS {
                let hours = Double(t - clockMS) / 3_600_000
                let ahead = hours >= 48 ? "\(Int(hours / 24)) days" : "\(Int(hours.rounded(.up))) hours"
                report.warnings.append("seq \(seq): timestamp \(e.ts) is \(ahead) ahead of this machine's clock (clock skew; order is seq)")
            }
            lastTimeMS = t
        } else {
            report.warnings.append("seq \(seq): timestamp \(e.ts) is not RFC 3339 UTC with milliseconds")
        }
        recent[seq % Verifier.recentCount] = e.hash
        hashes.append(contentsOf: e.hash.bytes)
        statements.append(contentsOf: digest.bytes)
        if seq > 0 { journalKeys.note(e) }
        report.events += 1
        report.lastSeq = seq
        report.head = e.hash
        if let s = snapshotSeq, s == seq, let snapshot, snapshotIsCurrent {
            let rebuilt = PrettyJSON.bytes(state.snapshot())
            if rebuilt != snapshot {
                fail(seq, .snapshotMismatch, "the snapshot file differs from the state replayed at seq \(seq)")
            }
        }
    }

    /// The chain hash of the event at `seq` (already checked), from the flat array.
    func hash(at seq: Int) -> Digest256? {
        guard seq >= 0, (seq + 1) * 32 <= hashes.count else { return nil }
        return Digest256(bytes: Array(hashes[(seq * 32)..<(seq * 32 + 32)]))
    }

    /// The first seq after `seq` whose statement has `digest` (a scan of the flat array).
    func firstSeq(of digest: Digest256, after seq: Int) -> Int? {
        let d = digest.bytes
        let count = statements.count / 32
        var k = max(seq + 1, 0)
        while k < count {
            if statements[k * 32] == d[0], statements[(k * 32)..<(k * 32 + 32)].elementsEqual(d) { return k }
            k += 1
        }
        return nil
    }

    mutating func checkGenesis(_ e: Event) {
        guard plan.isLocked else {
            fail(0, .planNotLocked, "the plan file is not marked locked (its lock flags were removed)")
            return
        }
        if e.prev != plan.digest {
            fail(0, .planEdited, PlanProof.editedMessage(plan, genesis: e))
            return
        }
        guard let recorded = e.data["personas"]?.objectValue else { return }
        for (id, entry) in recorded {
            let kid = entry["key_id"]?.stringValue
            let now = registry[id]?.keyID
            // A key rotated since lock (`key_changed` later in the journal) is kept as retired.
            if let kid, now != kid, !(registry[id]?.retiredKeys.contains { $0.keyID == kid } ?? false) {
                fail(0, .keySwapped, "personas.json has key \(now ?? "none") for \(id), but the plan was locked with \(kid)")
                return
            }
        }
    }

    /// Ends the check: a seq never found (a deletion), an empty journal or a snapshot ahead of the journal fail here.
    public mutating func finish() -> VerifyReport {
        if report.failure == nil, let g = gap {
            fail(g.missing, .deleted, g.missing == 0
                 ? "seq 0 (the genesis) is missing: the journal starts at seq \(g.found)"
                 : "seq \(g.missing) is missing: the journal goes from seq \(g.missing - 1) to \(g.found)")
        }
        if report.failure == nil, state.seq == -1 {
            fail(nil, .empty, "the journal has no genesis event")
        }
        if report.failure == nil, snapshot != nil, snapshotSeq == nil {
            fail(nil, .snapshotMismatch, "the snapshot file is not a valid snapshot (it can be rebuilt from the journal)")
        }
        if snapshotSeq != nil, !snapshotIsCurrent {
            report.warnings.append("the snapshot file is of an earlier Logbook version (not \(StatusState.snapshotSchemaID), snapshot format \(StatusState.snapshotFormat)); it is not read, and the next snapshot write replaces it")
        }
        if report.failure == nil, let s = snapshotSeq, s > state.seq {
            fail(state.seq + 1, .truncated, "the snapshot reflects seq \(s) but the journal ends at seq \(state.seq): events were cut off")
        }
        return report
    }

    /// The state replayed so far.
    public var replayedState: StatusState { state }
}

/// What can be checked of one journal line without the lines before it: that it parses, is in
/// canonical form, matches its hash, and that its signature verifies with the key its `key_id`
/// names. Independent per line, so ``Verifier/precheck(_:keys:)`` runs it on every core; the
/// checks that need order (seq, chain, trusted key, rules, snapshot) stay in ``Verifier/feed(_:checks:)``.
public struct LineCheck: Sendable {
    let event: Event?
    let parseError: String?
    let canonical: Bool
    let hashMatches: Bool
    let signatureValid: Bool
    /// Where the `stmt` bytes lie in the line, and their SHA-256.
    let statementRange: Range<Int>?
    let statementDigest: Digest256?
    /// The key `signatureValid` was computed with (personas.json's for the event's key id).
    let verifiedWith: PublicKey?

    /// The `hash` the line carries, if it parsed as an event.
    public var eventHash: Digest256? { event?.hash }
    /// Whether the line is exactly the RFC 8785 form of the event it parses to.
    public var isCanonical: Bool { canonical }
    /// Whether the line is canonical and its content hashes to its `hash`.
    public var isHashValid: Bool { hashMatches }
}

extension Verifier {
    /// The order-free checks of one line.
    public static func precheck(_ line: JournalLine, keys: [String: PublicKey]) -> LineCheck {
        func bad(_ message: String) -> LineCheck {
            LineCheck(event: nil, parseError: message, canonical: false, hashMatches: false, signatureValid: false,
                      statementRange: nil, statementDigest: nil, verifiedWith: nil)
        }
        let v: JSONValue
        do { v = try JSONParser.parse(line.bytes) } catch { return bad("not a JSON event: \(error.message) (byte \(error.offset))") }
        let e: Event
        do { e = try Event(json: v) } catch { return bad(error.message) }
        // Canonical: the line is the RFC 8785 form of what it parses to. Then the hashed bytes
        // are the line without its `hash` member, and the signed bytes the `stmt` member's
        // value, both sliced from the line as it is.
        let canonical = CanonicalJSON.bytes(v) == line.bytes
        let range = Event.statementRange(in: line.bytes)
        let hashed = canonical ? Event.removingHashMember(line.bytes) : nil
        let hashMatches = hashed.map { Digest256.of($0) == e.hash } ?? false
        var valid = false
        var key: PublicKey?
        if hashMatches, let r = range, let sig = e.sig, let kid = e.keyID, let pk = keys[kid] {
            key = pk
            valid = pk.isValid(signature: sig, message: Statement.signingBytes(Array(line.bytes[r])))
        }
        return LineCheck(event: e, parseError: nil, canonical: canonical && range != nil, hashMatches: hashMatches && range != nil,
                         signatureValid: valid, statementRange: range, statementDigest: range.map { Digest256.of(line.bytes[$0]) },
                         verifiedWith: key)
    }

    /// The order-free checks of many lines, spread over every core (Ed25519 verification dominates).
    public static func precheck(_ lines: [JournalLine], keys: [String: PublicKey]) -> [LineCheck] {
        let n = lines.count
        guard n > 1 else { return lines.map { precheck($0, keys: keys) } }
        let out = UnsafeMutableBufferPointer<LineCheck?>.allocate(capacity: n)
        out.initialize(repeating: nil)
        defer { out.deinitialize(); out.deallocate() }
        nonisolated(unsafe) let results = out
        let parts = min(n, ProcessInfo.processInfo.activeProcessorCount * 4)
        DispatchQueue.concurrentPerform(iterations: parts) { p in
            var k = p
            while k < n {
                results[k] = precheck(lines[k], keys: keys)
                k += parts
            }
        }
        return out.map { $0! }
    }
}
