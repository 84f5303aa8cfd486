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
    var state: StatusState
    var report: VerifyReport
    /// A line with seq one ahead of the expected one, kept to tell a deletion from a swap.
    var held: (line: JournalLine, event: Event)?
    var previousHash: Digest256?
    var lastTimeMS: Int64?
    var keys: [String: PublicKey] = [:]

    public init(plan: PlanDocument, spec: PlanSpec, registry: PersonaRegistry, snapshot: [UInt8]?) {
        self.plan = plan
        self.registry = registry
        self.snapshot = snapshot
        self.snapshotSeq = snapshot.flatMap { try? JSONParser.parse($0) }?["journal"]?["seq"]?.intValue
        self.state = StatusState(plan: spec)
        self.report = VerifyReport(plan: spec.id)
        for p in registry.personas.values { if let k = p.publicKey { keys[k.keyID] = k } }
    }

    public var failed: Bool { report.failure != nil }

    mutating func fail(_ seq: Int?, _ kind: VerifyReport.Kind, _ msg: String) {
        if report.failure == nil { report.failure = .init(seq: seq, kind: kind, message: msg) }
    }

    /// Checks the next line.
    public mutating func feed(_ line: JournalLine) {
        guard report.failure == nil else { return }
        let expected = state.seq + 1
        let e: Event
        do { e = try Event(line: line.bytes) } catch {
            fail(expected, .unparseable, "line \(expected + 1) of the journal is not a valid event: \(error.message)")
            return
        }
        if let h = held {
            held = nil
            if e.seq == expected {
                fail(expected, .reordered, "seq \(h.event.seq) comes before seq \(expected) (lines swapped)")
            } else {
                fail(expected, .deleted, "seq \(expected) is missing: the journal goes from seq \(expected - 1) to \(h.event.seq)")
            }
            return
        }
        if e.seq != expected {
            if e.seq == expected + 1, expected > 0 {
                held = (line, e)
                return
            }
            if e.seq < expected {
                if e.hash == previousHash || e.seq == state.seq {
                    fail(e.seq, .duplicated, "seq \(e.seq) appears twice")
                } else {
                    fail(e.seq, .reordered, "seq \(e.seq) appears after seq \(state.seq)")
                }
            } else {
                fail(expected, .deleted, "seq \(expected) is missing: the journal jumps from seq \(state.seq) to \(e.seq)")
            }
            return
        }
        check(line, e)
    }

    mutating func check(_ line: JournalLine, _ e: Event) {
        let seq = e.seq
        if CanonicalJSON.bytes(e.json) != line.bytes {
            fail(seq, .edited, "the line is not in canonical form (its bytes were changed)")
            return
        }
        if e.computedHash != e.hash {
            fail(seq, .edited, "the content does not match its hash \(e.hash) (an edited field)")
            return
        }
        if seq == 0 {
            checkGenesis(e)
            if failed { return }
        } else if e.prev != state.head {
            fail(seq, .chainBroken, "prev \(e.prev) is not the hash of seq \(seq - 1) (\(state.head?.description ?? "none")): an event was inserted or replaced")
            return
        }
        // Signature: by the key the plan trusts for this persona, present in personas.json.
        if let sig = e.sig {
            guard let kid = e.keyID else { fail(seq, .forgedSignature, "signature without a key_id"); return }
            let trusted = seq == 0 ? kid : state.personas[e.persona]?.keyID
            guard kid == trusted else {
                fail(seq, .forgedSignature, "signed with key \(kid), but the plan trusts \(trusted ?? "no key") for \(e.persona)")
                return
            }
            guard let pk = keys[kid] else {
                fail(seq, .unknownKey, "key \(kid) is not in personas.json")
                return
            }
            guard pk.persona == e.persona, pk.isValid(signature: sig, for: e.hash) else {
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
            lastTimeMS = t
        } else {
            report.warnings.append("seq \(seq): timestamp \(e.ts) is not RFC 3339 UTC with milliseconds")
        }
        previousHash = e.hash
        report.events += 1
        report.lastSeq = seq
        report.head = e.hash
        if let s = snapshotSeq, s == seq, let snapshot {
            let rebuilt = PrettyJSON.bytes(state.snapshot(cursor: line.end))
            if rebuilt != snapshot {
                fail(seq, .snapshotMismatch, "the snapshot file differs from the state replayed at seq \(seq)")
            }
        }
    }

    mutating func checkGenesis(_ e: Event) {
        guard plan.isLocked else {
            fail(0, .planNotLocked, "the plan file is not marked locked (its lock flags were removed)")
            return
        }
        if e.prev != plan.digest {
            fail(0, .planEdited, "the plan file changed after lock: digest \(plan.digest) is not the locked \(e.prev)" + planEditWhere(e))
            return
        }
        guard let recorded = e.data["personas"]?.objectValue else { return }
        for (id, entry) in recorded {
            let kid = entry["key_id"]?.stringValue
            let now = registry[id]?.keyID
            if let kid, now != kid {
                fail(0, .keySwapped, "personas.json has key \(now ?? "none") for \(id), but the plan was locked with \(kid)")
                return
            }
        }
    }

    /// Names the edited task when the genesis' task digests can tell.
    func planEditWhere(_ e: Event) -> String {
        guard let recorded = e.data["task_digests"]?.objectValue else { return "" }
        let now = plan.taskDigests
        for (i, t) in (plan.payload["tasks"]?.arrayValue ?? []).enumerated() {
            guard let id = t["task_id"]?.stringValue else { return " (first difference at payload.tasks[\(i)].task_id)" }
            if recorded[id] == nil { return " (payload.tasks[\(i)]: task \(id) was added)" }
            if recorded[id] != now[id] { return " (first difference in payload.tasks[\(i)], task \(id))" }
        }
        if now.count != recorded.count { return " (a task was removed)" }
        return " (the difference is outside payload.tasks)"
    }

    /// Ends the check: a held line, an empty journal or a snapshot ahead of the journal fail here.
    public mutating func finish() -> VerifyReport {
        if report.failure == nil, let h = held {
            fail(h.event.seq - 1, .deleted, "seq \(h.event.seq - 1) is missing before the last event")
        }
        if report.failure == nil, state.seq == -1 {
            fail(nil, .empty, "the journal has no genesis event")
        }
        if report.failure == nil, snapshot != nil, snapshotSeq == nil {
            fail(nil, .snapshotMismatch, "the snapshot file is not a valid snapshot (it can be rebuilt from the journal)")
        }
        if report.failure == nil, let s = snapshotSeq, s > state.seq {
            fail(state.seq + 1, .truncated, "the snapshot reflects seq \(s) but the journal ends at seq \(state.seq): events were cut off")
        }
        return report
    }

    /// The state replayed so far.
    public var replayedState: StatusState { state }
}
