import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Testing

/// The tamper matrix through the library verifier: a generated journal of a few hundred signed
/// events, and every kind of change (byte flips at every position or a seeded sample, field edits,
/// deletions, duplicates, swaps, forged records, replaced signatures, changed prev, truncation at
/// every record boundary with and without a held checkpoint, an edited plan, a swapped key).
/// Each must fail verify naming the right seq and kind; none may crash it.
///
/// Speed: the verifier is a value; its state before each line is kept, so a change in line k is
/// checked from line k on (the lines before are byte-identical, so the result is the same as a
/// full run; the truncation test also runs the workspace verify end to end).
@Suite(.serialized) struct TamperMatrixTests {
    final class Journal: @unchecked Sendable {
        let ws: Workspace
        let file: PlanFile
        let spec: PlanSpec
        let registry: PersonaRegistry
        let lines: [[UInt8]]
        let events: [Event]
        /// The verifier and the checkpoint check before line k (k = 0 … n).
        var before: [Verifier] = []
        var cpBefore: [CheckpointCheck] = []
        let checkpoint: Checkpoint
        let keys: [String: SigningKey]

        init(ws: Workspace, file: PlanFile, checkpoint: Checkpoint) async throws {
            self.ws = ws
            self.file = file
            spec = try file.document.spec()
            registry = try await ws.engine.personas()
            lines = Workspace.splitLines(TestSupport.bytes(ws.store.journalPath(file.journalRef))).lines
            events = try lines.map { try Event(line: $0) }
            self.checkpoint = checkpoint
            var k: [String: SigningKey] = [:]
            for p in ["SUPERVISOR", "WORKER", "WORKER2", "TESTER_BOT"] { k[p] = try await ws.engine.signingKey(for: p) }
            keys = k
            var v = Verifier(plan: file.document, spec: spec, registry: registry, snapshot: nil)
            var c = CheckpointCheck(checkpoint: checkpoint)
            var end: Int64 = 0
            for l in lines {
                before.append(v)
                cpBefore.append(c)
                end += Int64(l.count + 1)
                v.feed(JournalLine(bytes: l, end: end))
                c.feed(JournalLine(bytes: l, end: end))
            }
            before.append(v)
            cpBefore.append(c)
            precondition(v.finish().ok, "the generated journal does not verify")
        }

        var n: Int { lines.count }

        /// Verifies the journal whose lines are `lines[0..<k] + tail` (tail: complete lines).
        func verify(from k: Int, _ tail: [[UInt8]], checkpoint useCheckpoint: Bool = false) -> VerifyReport {
            var v = before[k]
            var c = cpBefore[k]
            var end: Int64 = 0
            for l in tail {
                if v.failed && !useCheckpoint { break }
                end += Int64(l.count + 1)
                let jl = JournalLine(bytes: l, end: end)
                v.feed(jl)
                if useCheckpoint { c.feed(jl) }
            }
            var report = v.finish()
            if useCheckpoint, report.failure == nil { report.failure = c.finish() }
            return report
        }

        /// The event of line k with `change` applied, re-hashed and, when `signer` is given, re-signed.
        func rebuilt(_ k: Int, signer: SigningKey?, keepSig: Bool = false, _ change: (inout Event) -> Void) -> [UInt8] {
            var e = events[k]
            change(&e)
            if !keepSig { e.sig = signer?.sign(message: e.signedBytes) }
            e.hash = e.computedHash
            return Array(e.line.dropLast())
        }
    }

    /// A journal of ~300 events over all five tasks and most event types, with a checkpoint at its end
    /// (made once for the suite).
    actor Cache {
        static let shared = Cache()
        var journal: Journal?
        func get() async throws -> Journal {
            if let journal { return journal }
            let j = try await TamperMatrixTests.makeJournal()
            journal = j
            return j
        }
    }

    static func makeJournal() async throws -> Journal {
        let (ws, file) = try await TestSupport.lockedWorkspace("tamper-matrix")
        let book = try await ws.engine.book(file)
        var keys: [String: SigningKey] = [:]
        for p in ["SUPERVISOR", "WORKER", "WORKER2", "TESTER_BOT"] { keys[p] = try await ws.engine.signingKey(for: p) }
        func put(_ type: EventType, _ task: String, _ persona: String, _ data: JSONObject = JSONObject(), key: String? = nil, trace: String? = nil) async throws {
            var r = EventRequest(type: type, task: task, persona: persona, data: data)
            r.idempotencyKey = key
            r.traceID = trace
            _ = try await book.submit(r, signer: keys[persona])
        }
        try await put(.started, "T1", "WORKER")
        try await put(.started, "T4", "WORKER2")
        try await put(.started, "T5", "TESTER_BOT")
        for i in 0..<280 {
            switch i % 7 {
            case 0: try await put(.progress, "T1", "WORKER", ["percent": JSONValue(i % 100), "note": .string("note \(i) — ✓")], key: "k-\(i)")
            case 1: try await put(.progress, "T4", "WORKER2", ["percent": JSONValue(i % 100)], trace: String(format: "%032x", i + 1))
            case 2: try await put(.testResult, "T5", "TESTER_BOT", ["suite": "unit", "passed": JSONValue(i), "failed": 0, "skipped": 1])
            case 3: try await put(.achievement, "T1", "SUPERVISOR", ["summary": .string("milestone \(i)")])
            case 4: try await put(.blocked, "T5", "TESTER_BOT", ["reason": .string("waiting \(i)")])
            case 5: try await put(.unblocked, "T5", "SUPERVISOR", ["reason": "go on"])
            default: try await put(.progress, "T1", "WORKER", ["percent": JSONValue((i * 3) % 100)])
            }
        }
        try await put(.failed, "T4", "WORKER2", ["reason": "flaky"])
        try await put(.retried, "T4", "WORKER2", ["reason": "again"])
        try await put(.done, "T4", "WORKER2", ["summary": "ok"])
        try await put(.done, "T1", "WORKER")
        let cp = try await ws.engine.writeCheckpoint(file, signers: [keys["SUPERVISOR"]!])
        return try await Journal(ws: ws, file: file, checkpoint: cp)
    }

    /// Tallies per family; failures recorded with the case.
    struct Tally {
        var cases = 0
        var kinds: [String: Int] = [:]
        mutating func expect(_ r: VerifyReport, seq: Int?, _ allowed: Set<VerifyReport.Kind>, _ what: @autoclosure () -> String,
                             sourceLocation: SourceLocation = #_sourceLocation) {
            cases += 1
            let k = r.failure?.kind
            kinds[k?.rawValue ?? "passed", default: 0] += 1
            let good = r.failure != nil && r.failure?.seq == seq && allowed.contains(k!) && !(r.failure?.message.isEmpty ?? true)
            if !good { Issue.record("\(what()): expected seq \(seq.map(String.init) ?? "nil") \(allowed.map(\.rawValue).sorted()), got \(r.failure?.description ?? "OK")", sourceLocation: sourceLocation) }
        }
        var summary: String { "\(cases) cases (" + kinds.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")" }
    }

    @Test func flipOneByteAtEveryPosition() async throws {
        let j = try await Cache.shared.get()
        var positions: [(Int, Int)] = []  // (line, offset in line, the newline included)
        for (k, l) in j.lines.enumerated() { for p in 0...l.count { positions.append((k, p)) } }
        let total = positions.count
        let full = Reliability.soak || Reliability.env["LOGBOOK_TAMPER_FULL"] == "1"
        var rng = SeededRandom(seed: Reliability.seed)
        if !full {
            positions.shuffle(using: &rng)
            positions = Array(positions.prefix(Reliability.int("LOGBOOK_TAMPER_FLIPS", ci: 20_000, soak: total)))
        }
        var t = Tally(), tornTail = 0
        for (k, p) in positions {
            var region = j.lines[k] + [0x0A]
            if k + 1 < j.n { region += j.lines[k + 1] + [0x0A] }
            region[p] ^= UInt8.random(in: 1...255, using: &rng)
            let (split, partial) = Workspace.splitLines(region)
            if !partial.isEmpty && k == j.n - 1 && split.isEmpty {
                // The last line's newline flipped: to the file store this is a torn tail (cut, and
                // reported as a warning), which a chain alone cannot tell from a crash. A held
                // checkpoint makes it a failure: the last event is missing.
                let r = j.verify(from: k, [], checkpoint: true)
                t.expect(r, seq: k, [.truncated], "flip of the last newline, with the checkpoint")
                tornTail += 1
                continue
            }
            let tail = split + (partial.isEmpty ? [] : [partial]) + (k + 2 < j.n ? Array(j.lines[(k + 2)...]) : [])
            let r = j.verify(from: k, tail)
            // Inside the signature's base64, a flip is a forged signature (or unparseable); elsewhere an edit.
            let sigAt = Self.range(of: "\"sig\":\"", in: j.lines[k])
            let inSig = sigAt.map { p >= $0 && p < j.lines[k].count - 2 } ?? false
            t.expect(r, seq: k, inSig ? [.forgedSignature, .unparseable, .edited] : [.edited, .unparseable], "flip at line \(k + 1) byte \(p)")
        }
        #expect(t.cases == positions.count)
        FaultSweep.report("tamper matrix, byte flips", "\(positions.count) of \(total) positions of a \(j.n)-event journal (\(full ? "all" : "seeded sample; LOGBOOK_TAMPER_FULL=1 for all")), one random XOR each: \(t.summary), every failure at the flipped line's seq; \(tornTail) flips of the last newline look like a torn tail and fail only against the held checkpoint")
    }

    /// Where the value after `needle` starts in `line`.
    static func range(of needle: String, in line: [UInt8]) -> Int? {
        let n = Array(needle.utf8)
        guard line.count >= n.count else { return nil }
        for i in 0...(line.count - n.count) where Array(line[i..<(i + n.count)]) == n { return i + n.count }
        return nil
    }

    @Test func editEachFieldKindOfEveryEvent() async throws {
        let j = try await Cache.shared.get()
        var t = Tally(), rehashed = Tally(), insider = Tally(), insiderLast = Tally()
        // Envelope v2: the store's members at the top, the statement's inside `stmt`.
        let fields = ["v", "seq", "prev", "ts", "g", "hash", "sig", "facts", "stmt.plan", "stmt.task", "stmt.persona", "stmt.type", "stmt.data",
                      "stmt.trace_id", "stmt.idempotency_key", "stmt.key_id", "stmt.at", "stmt.seen"]
        for k in 0..<j.n {
            guard case .object(let o) = try JSONParser.parse(j.lines[k]) else { continue }
            for f in fields {
                var m = o
                var st = o["stmt"]?.objectValue ?? JSONObject()
                let name = f.hasPrefix("stmt.") ? String(f.dropFirst(5)) : f
                switch f {
                case "v": m[f] = 1
                case "seq": m[f] = JSONValue(k == 0 ? 1 : k - 1)
                case "g": m[f] = JSONValue((o[f]?.intValue ?? 0) + 1)
                case "prev", "hash": m[f] = .string("sha256:" + String(repeating: "ab", count: 32))
                case "ts": m[f] = "2030-01-01T00:00:00.000Z"
                case "sig": m[f] = .string(Base64.encode(j.keys["WORKER"]!.sign(message: j.events[(k + 1) % j.n].signedBytes)))
                case "facts": m[f] = .object(JSONObject([("attempt", 9)]))
                case "stmt.type": st[name] = st[name]?.stringValue == "progress" ? "achievement" : "progress"
                case "stmt.data":
                    var d = st[name]?.objectValue ?? JSONObject()
                    d["injected"] = true
                    st[name] = .object(d)
                case "stmt.trace_id" where st[name] == nil: st[name] = .string(String(repeating: "1", count: 32))
                case "stmt.idempotency_key" where st[name] == nil: st[name] = "fresh-key"
                case "stmt.task" where st[name] == nil: st[name] = "T1"
                case "stmt.seen": st[name] = .object(JSONObject([("hash", .string("sha256:" + String(repeating: "cd", count: 32))), ("seq", JSONValue(max(0, k - 1)))]))
                case "stmt.at": st[name] = "2030-01-01T00:00:00.000Z"
                default: st[name] = .string((st[name]?.stringValue ?? "") + "X")
                }
                if f.hasPrefix("stmt.") { m["stmt"] = .object(st) }
                let line = CanonicalJSON.bytes(.object(m))
                let r = j.verify(from: k, [line] + j.lines[(k + 1)...])
                // The hash covers every member (the signature too): any edit without re-hashing is one.
                let kinds: Set<VerifyReport.Kind> = f == "v" ? [.unparseable] : [.edited]
                t.expect(r, seq: k, kinds, "field \(f) of seq \(k)")
            }
            // An outsider who re-hashes after editing cannot sign: forged signature at k.
            let reh = j.rebuilt(k, signer: nil, keepSig: true) { $0.data["injected"] = true }
            rehashed.expect(j.verify(from: k, [reh] + j.lines[(k + 1)...]), seq: k, [.forgedSignature], "re-hashed edit of seq \(k)")
            // An insider with the persona's key re-signs: the next prev no longer matches.
            if let signer = j.keys[j.events[k].persona] {
                let ins = j.rebuilt(k, signer: signer) { $0.data["injected"] = true }
                if k + 1 < j.n {
                    insider.expect(j.verify(from: k, [ins] + j.lines[(k + 1)...]), seq: k + 1, [.chainBroken], "re-signed edit of seq \(k)")
                } else {
                    // The last event rewritten by its own signer: a valid chain; only a checkpoint tells.
                    #expect(j.verify(from: k, [ins]).ok)
                    insiderLast.expect(j.verify(from: k, [ins], checkpoint: true), seq: 0, [.forked], "re-signed last event, with the checkpoint")
                }
            }
        }
        FaultSweep.report("tamper matrix, field edits", "every field of every event (\(fields.count) kinds): \(t.summary); re-hashed without the key: \(rehashed.summary); re-signed by an insider: \(insider.summary), the last event \(insiderLast.summary) (passes without a checkpoint)")
    }

    @Test func deleteDuplicateSwapInsertAndReplace() async throws {
        let j = try await Cache.shared.get()
        var del = Tally(), dup = Tally(), swap = Tally(), forged = Tally(), sig = Tally(), prev = Tally()
        for k in 0..<j.n {
            let rest = k + 1 < j.n ? Array(j.lines[(k + 1)...]) : []
            if k < j.n - 1 { del.expect(j.verify(from: k, rest), seq: k, [.deleted], "delete seq \(k)") }
            dup.expect(j.verify(from: k, [j.lines[k], j.lines[k]] + rest), seq: k, [.duplicated], "duplicate seq \(k)")
            if k + 1 < j.n {
                swap.expect(j.verify(from: k, [j.lines[k + 1], j.lines[k]] + Array(rest.dropFirst())), seq: k, [.reordered], "swap seq \(k), \(k + 1)")
            }
            if k > 0 {
                // Forged records in place of seq k (each hashed correctly, chained to seq k-1).
                let persona = j.events[k].persona
                let other = persona == "WORKER" ? "WORKER2" : "WORKER"
                let wrongKey = j.rebuilt(k, signer: j.keys[other]) { $0.keyID = j.keys[other]!.publicKey.keyID }
                forged.expect(j.verify(from: k, [wrongKey] + rest), seq: k, [.forgedSignature], "seq \(k) signed with \(other)'s key")
                let mallory = SigningKey(generatingFor: "MALLORY")
                let unknown = j.rebuilt(k, signer: mallory) { $0.persona = "MALLORY"; $0.keyID = mallory.publicKey.keyID }
                forged.expect(j.verify(from: k, [unknown] + rest), seq: k, [.forgedSignature], "seq \(k) by an unknown persona")
                let unsigned = j.rebuilt(k, signer: nil) { $0.keyID = nil }
                forged.expect(j.verify(from: k, [unsigned] + rest), seq: k, [.missingSignature], "seq \(k) unsigned")
                let otherSig = j.rebuilt(k, signer: nil, keepSig: true) { $0.data["percent"] = 99; $0.sig = j.events[k - 1].sig }
                forged.expect(j.verify(from: k, [otherSig] + rest), seq: k, [.forgedSignature], "seq \(k) with a valid signature over another event")
                // Inserted: a forged extra event after seq k-1, the real seq k following it.
                let inserted = j.rebuilt(k, signer: j.keys[other]) { $0.keyID = j.keys[other]!.publicKey.keyID; $0.data["forged"] = true }
                forged.expect(j.verify(from: k, [inserted, j.lines[k]] + rest), seq: k, [.forgedSignature], "forged record inserted at seq \(k)")
                // A signature replaced by another event's valid signature by the same persona.
                if let same = (0..<j.n).first(where: { $0 != k && j.events[$0].persona == persona }) {
                    var e = j.events[k]
                    e.sig = j.events[same].sig
                    // v2: the hash covers the signature, so a swapped signature is an edit;
                    // re-hashed, the signature does not verify over this statement.
                    sig.expect(j.verify(from: k, [Array(e.line.dropLast())] + rest), seq: k, [.edited], "seq \(k) with seq \(same)'s signature")
                    e.hash = e.computedHash
                    sig.expect(j.verify(from: k, [Array(e.line.dropLast())] + rest), seq: k, [.forgedSignature], "seq \(k) with seq \(same)'s signature, re-hashed")
                }
                // prev changed: edited (not re-hashed); chain broken (re-hashed and re-signed by its persona).
                var p = j.events[k]
                p.prev = j.events[k >= 2 ? k - 2 : 2].hash
                prev.expect(j.verify(from: k, [Array(p.line.dropLast())] + rest), seq: k, [.edited], "prev of seq \(k) changed")
                if let signer = j.keys[persona] {
                    let resigned = j.rebuilt(k, signer: signer) { $0.prev = j.events[k >= 2 ? k - 2 : 2].hash }
                    prev.expect(j.verify(from: k, [resigned] + rest), seq: k, [.chainBroken], "prev of seq \(k) changed and re-signed")
                }
            }
        }
        FaultSweep.report("tamper matrix, structure", "delete \(del.summary); duplicate \(dup.summary); swap \(swap.summary); forged records (wrong key, unknown persona, unsigned, valid signature over another event, inserted) \(forged.summary); replaced signature \(sig.summary); changed prev \(prev.summary)")
    }

    @Test func truncateAtEveryRecordBoundary() async throws {
        let j = try await Cache.shared.get()
        var without = 0, with = Tally()
        for b in 1..<j.n {
            // Keep seq 0…b-1.
            if j.verify(from: b, []).ok { without += 1 }
            with.expect(j.verify(from: b, [], checkpoint: true), seq: b, [.truncated], "truncated to \(b) events, with the checkpoint")
        }
        #expect(without == j.n - 1, "a chain alone cannot see a cut at a record boundary")
        // Two full runs through the workspace agree with the fast path.
        let path = j.ws.store.journalPath(j.file.journalRef)
        let original = TestSupport.bytes(path)
        defer { overwrite(path, original) }
        var cut: [UInt8] = []
        for l in j.lines.prefix(j.n / 2) { cut += l + [0x0A] }
        overwrite(path, cut)
        let snapshot = j.ws.store.snapshotPath(j.file.journalRef)
        let snap = TestSupport.bytes(snapshot)
        try? FileManager.default.removeItem(atPath: snapshot)
        defer { overwrite(snapshot, snap) }
        let r = try await j.ws.engine.verify(j.file)
        #expect(r.failure?.kind == .truncated && r.failure?.seq == j.n / 2, "\(r)")
        FaultSweep.report("tamper matrix, truncation", "cut at each of \(j.n - 1) record boundaries: without a checkpoint (and no snapshot ahead) all \(without) pass verify, as a hash chain cannot see a cut; with the held checkpoint \(with.summary), each at the first missing seq")
    }

    @Test func editThePlanOrSwapAKey() async throws {
        let j = try await Cache.shared.get()
        var plan = Tally(), keys = Tally()
        let doc = j.file.document
        var edits: [(String, (inout JSONObject) -> Void)] = [
            ("goal", { $0["plan_definition"] = ["goal": "something else", "scope_summary": "", "exclusions_summary": ""] }),
            ("a task added", { p in var t = p["tasks"]!.arrayValue!; t.append(t[0]); p["tasks"] = .array(t) }),
            ("a task removed", { p in var t = p["tasks"]!.arrayValue!; t.removeLast(); p["tasks"] = .array(t) }),
            ("lock flag removed", { $0["_tasks_list_immutable"] = false }),
        ]
        for i in 0..<5 {
            for field in ["title", "assigned_agent_persona", "max_retries", "dependencies", "criticality", "notes"] {
                edits.append(("task \(i) \(field)", { p in
                    var t = p["tasks"]!.arrayValue!
                    guard case .object(var o) = t[i] else { return }
                    o[field] = field == "max_retries" ? 7 : field == "dependencies" ? ["T9"] : "changed"
                    t[i] = .object(o)
                    p["tasks"] = .array(t)
                }))
            }
        }
        for (name, edit) in edits {
            guard case .object(var root) = doc.json, var payload = root["payload"]?.objectValue else { continue }
            edit(&payload)
            root["payload"] = .object(payload)
            let edited = PlanDocument(json: .object(root))
            var v = Verifier(plan: edited, spec: j.spec, registry: j.registry, snapshot: nil)
            var end: Int64 = 0
            for l in j.lines { end += Int64(l.count + 1); v.feed(JournalLine(bytes: l, end: end)) }
            plan.expect(v.finish(), seq: 0, name == "lock flag removed" ? [.planNotLocked] : [.planEdited], "plan edit: \(name)")
        }
        for persona in ["SUPERVISOR", "WORKER", "WORKER2", "TESTER_BOT"] {
            var reg = j.registry
            let old = reg.personas[persona]!
            reg.personas[persona] = Persona(id: persona, role: old.role, archetype: old.archetype, publicKey: SigningKey(generatingFor: persona).publicKey)
            var v = Verifier(plan: doc, spec: j.spec, registry: reg, snapshot: nil)
            var end: Int64 = 0
            for l in j.lines { end += Int64(l.count + 1); v.feed(JournalLine(bytes: l, end: end)) }
            keys.expect(v.finish(), seq: 0, [.keySwapped], "key of \(persona) swapped in personas.json")
        }
        FaultSweep.report("tamper matrix, plan and keys", "plan edits \(plan.summary); keys swapped in personas.json \(keys.summary)")
    }
}

