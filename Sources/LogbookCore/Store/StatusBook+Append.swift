import Dispatch
import Foundation
import Synchronization

extension StatusBook {
    /// Records one event; returns it once it is durable (or the first event of an idempotent repeat).
    ///
    /// - Throws: ``LogbookError`` naming the rule that refused the event; nothing is written then.
    public func submit(_ request: EventRequest, signer: SigningKey?) async throws -> Event {
        let w = Waiter(request: request, signer: signer)
        let lead = inner.withLock { i -> Bool in
            i.pending.append(w)
            if i.committing { return false }
            i.committing = true
            return true
        }
        if lead { await commitLoop() }
        switch try await w.outcome() {
        case .appended(let e): return e
        case .repeatOf(let seq): return try await event(at: seq)
        }
    }

    /// Leads commits until no request waits.
    func commitLoop() async {
        while true {
            let batch = inner.withLock { i -> [Waiter] in
                let b = i.pending
                i.pending = []
                if b.isEmpty { i.committing = false }
                return b
            }
            if batch.isEmpty { return }
            guard let done = await commit(batch) else { continue }
            guard done.snapshotDue else {
                if let hook = options.afterCommit { await hook(done.signers) }
                continue
            }
            // A snapshot is due. It is taken now, while no other commit of this book runs (state
            // and cursor agree); then the requests that came in meanwhile get a new leader, so
            // they do not wait for the write, and this leader stores it; its own caller returns
            // after that (a one-shot CLI writer exits with the snapshot written).
            let snapshot = inner.withLock { i in (doc: i.state.snapshot(cursor: i.cursor), seq: i.state.seq) }
            let more = inner.withLock { i -> Bool in
                if i.pending.isEmpty { i.committing = false }
                return !i.pending.isEmpty
            }
            if more { Task { await self.commitLoop() } }
            // Sealed by a signer of the batch whose key the genesis records (else unsealed).
            await storeDueSnapshot(snapshot.doc, seq: snapshot.seq, sealer: done.signers.first(where: trusts))
            if let hook = options.afterCommit { await hook(done.signers) }
            return
        }
    }

    /// What a commit that appended leaves to do.
    struct Committed {
        var snapshotDue: Bool
        var signers: [SigningKey]
    }

    /// Commits one batch; nil when it appended nothing (wholly refused, repeated or failed).
    func commit(_ batch: [Waiter]) async -> Committed? {
        let g: Int
        do { g = try options.currentG() } catch {
            for w in batch { w.finish(.failure(error)) }
            return nil
        }
        let results = ResultBox(count: batch.count)
        // Catch up with other processes' events before taking the store's exclusion, so that the
        // lock is held only to fold what arrived since (writers fold every event; doing most of
        // it outside the lock lets them do it at the same time). A damaged line is left for the
        // locked path, which reports it.
        _ = try? await state()
        let before = inner.withLock { ($0.state, $0.cursor) }
        var appended: [Int] = []
        do {
            let end = try await store.append(ref, from: before.1) { [self] newer in
                let prepared = try inner.withLock { i throws(LogbookError) -> [Prepared] in
                    for line in newer {
                        try StatusBook.fold(line, into: &i.state, keys: options.lineKeys)
                        i.cursor = line.end
                    }
                    i.anchor(i.state.seq, i.cursor)  // where this batch's lines start
                    // The time under the exclusion, after every earlier event: never before the head's.
                    let ts = Timestamp.string(options.now(), notBefore: i.state.lastTS)
                    var working = i.state
                    defer { i.working = working }
                    var out: [Prepared] = []
                    for (k, w) in batch.enumerated() {
                        do throws(LogbookError) {
                            let p = try prepare(w.request, signer: w.signer, state: &working, g: g, ts: ts)
                            if let seq = p.repeatOf {
                                results.set(k, .success(.repeatOf(seq)))
                            } else {
                                out.append(Prepared(index: k, event: p.event, hashed: p.hashed, signer: w.signer))
                            }
                        } catch {
                            results.set(k, .failure(error.with(plan: plan.id, task: w.request.task)))
                        }
                    }
                    return out
                }
                // The rules and the chain are settled; signing (and on the server path verifying)
                // needs no order, so a batch is signed on every core.
                let signed = try sign(prepared)
                for (p, s) in zip(prepared, signed) { results.set(p.index, .success(.appended(s.event))) }
                return signed.map(\.line)
            }
            inner.withLock { i in
                // Durable now: the batch becomes part of the book's state (unless a reader has
                // meanwhile folded it, and more, from the journal).
                if let w = i.working, w.seq >= i.state.seq {
                    i.state = w
                    i.cursor = end
                }
                i.working = nil
                i.anchor(i.state.seq, i.cursor)
            }
            for (k, w) in batch.enumerated() { w.finish(results.get(k) ?? .failure(LogbookError(.io, "no result"))) }
            // A batch that was wholly refused or repeated writes nothing, not even a snapshot.
            appended = batch.indices.compactMap { k -> Int? in
                if case .success(.appended(let e))? = results.get(k) { return e.seq } else { return nil }
            }
            guard !appended.isEmpty else { return nil }
        } catch {
            // Nothing may be acknowledged: forget what this batch folded and reload from the store.
            inner.withLock { i in
                i.state = before.0
                i.cursor = before.1
                i.working = nil
            }
            for (k, w) in batch.enumerated() {
                if case .failure(let own)? = results.get(k) { w.finish(.failure(own)) } else { w.finish(.failure(error)) }
            }
            return nil
        }
        // After each durable commit that appended: the snapshot when due, then the hook (in that order).
        return Committed(snapshotDue: snapshotDue(appended: appended), signers: batch.compactMap(\.signer))
    }

    /// Whether to write the snapshot after a batch: when it appended a seq that is a multiple of
    /// the interval (exactly one writer per interval, however many processes write); when there
    /// is no trusted snapshot (deleted, damaged, unsealed, forged: snapshotSeq -1); or when this
    /// book has not stored one for ``Options/snapshotMaxAge`` seconds, or never (so a one-shot
    /// CLI writer always leaves the file at its own event, and a long-lived book refreshes it
    /// on its first commit past the time bound).
    func snapshotDue(appended: [Int]) -> Bool {
        let interval = max(1, options.snapshotInterval)
        if appended.contains(where: { $0 % interval == 0 }) { return true }
        let now = options.now()
        return inner.withLock { i in
            guard i.snapshotSeq >= 0, let at = i.snapshotStoredAt else { return true }
            return now.timeIntervalSince(at) >= options.snapshotMaxAge
        }
    }

    /// Stores a snapshot unless another task of this book is storing one (the next is due soon).
    /// Not synced: a snapshot is proved before it is used, and a torn or missing one is rebuilt.
    /// A failure is reported through ``Options/warn`` (the commit stands).
    func storeDueSnapshot(_ doc: JSONValue, seq: Int, sealer: SigningKey?) async {
        let mine = inner.withLock { i -> Bool in
            if i.snapshotWriting { return false }
            i.snapshotWriting = true
            return true
        }
        guard mine else { return }
        let bytes = sealedBytes(doc, sealer: sealer)
        var failure: (any Error)?
        do { try await store.storeSnapshot(ref, bytes, seq: seq, SnapshotWrite(durable: false)) } catch { failure = error }
        inner.withLock { $0.snapshotWriting = false }
        if let failure {
            options.warn?("could not write the snapshot of \(ref.statusID) at seq \(seq): \((failure as? LogbookError)?.message ?? "\(failure)"); the events are committed, the next writer rewrites it")
        } else {
            noteStored(seq: seq, sealed: sealer != nil)
        }
    }

    /// Turns a request into the event at the head of `state`, hashed and checked against every
    /// rule, and folds it in; ``sign(_:)`` signs it afterwards. Or finds it is an idempotent repeat.
    func prepare(_ r: EventRequest, signer: SigningKey?, state: inout StatusState, g: Int, ts: String) throws(LogbookError)
        -> (event: Event, hashed: [UInt8], repeatOf: Int?) {
        let plan = state.plan.id
        if let t = r.task, state.plan[task: t] == nil {
            throw LogbookError(.notFound, "unknown task \(t) (the plan has \(state.plan.tasks.count) tasks)", plan: plan, task: t)
        }
        if let key = r.idempotencyKey {
            guard !key.isEmpty, key.utf8.count <= 256 else { throw LogbookError(.badInput, "idempotency key must be 1–256 bytes") }
            if let first = state.idempotency[key] {
                let fp = StatusState.fingerprint(type: r.type, task: r.task, persona: r.persona, data: r.data)
                guard fp == first.fingerprint else {
                    throw LogbookError(.conflict, "idempotency key \(key) was used by seq \(first.seq) for a different event", plan: plan, task: r.task, rule: "idempotency",
                                       facts: ["idempotency_key": .string(key), "actual_seq": JSONValue(first.seq)])
                }
                return (Event.placeholder, [], first.seq)
            }
        }
        if let expected = r.expectedTaskSeq {
            guard let t = r.task, let ts = state.task(t) else {
                throw LogbookError(.notFound, "unknown task \(r.task ?? "(none)")", plan: plan, task: r.task)
            }
            let actual = ts.lastSeq ?? 0
            guard actual == expected else {
                throw LogbookError(.conflict, "the task moved: its last event is seq \(actual), the writer expected \(expected)", plan: plan, task: t, rule: "expected_seq",
                                   facts: ["actual_seq": JSONValue(actual), "expected_seq": JSONValue(expected)])
            }
        }
        if let signer, signer.persona != r.persona {
            throw LogbookError(.badSignature, "the key given belongs to \(signer.persona), not \(r.persona)", plan: plan, task: r.task)
        }
        if let t = r.traceID, !TraceID.isValid(t) {
            throw LogbookError(.badInput, "trace id must be 32 lowercase hex digits (W3C trace-context)")
        }
        var data = r.data
        if let t = r.task, let spec = state.plan[task: t], let task = state.task(t) {
            switch r.type {
            case .started:
                let deps: [JSONValue] = spec.dependencies.map { d in
                    .object(JSONObject([("task_id", .string(d)), ("status", .string(state.task(d)?.status.rawValue ?? "UNKNOWN"))]))
                }
                let ready = state.unmetDependencies(spec).isEmpty
                data["readiness"] = .object(JSONObject([
                    ("dependencies", .array(deps)), ("ready", .bool(ready)),
                    ("override", .bool(!ready && task.pendingOverrides.contains("dependencies_done"))),
                ]))
            case .retried where data["attempt"] == nil:
                data["attempt"] = .number(Double(task.attempts + 1))
            default:
                break
            }
        }
        var e = Event(seq: state.seq + 1, prev: state.head ?? state.planDigest ?? Digest256.of([]), ts: ts, g: g, plan: plan,
                      task: r.task, persona: r.persona, archetype: state.personas[r.persona]?.archetype,
                      type: r.type, data: data, traceID: r.traceID, idempotencyKey: r.idempotencyKey,
                      keyID: signer?.publicKey.keyID, hash: Event.placeholder.hash, sig: nil)
        let hashed = CanonicalJSON.bytes(e.hashedJSON)  // canonicalised once: hashed here, the line is built from it
        e.hash = Digest256.of(hashed)
        // The line is these bytes with the hash member, the signature member (88 base64 digits) and a newline.
        let size = hashed.count + StatusBook.hashMemberBytes + (signer == nil ? 0 : StatusBook.sigMemberBytes) + 1
        guard size <= Event.maxLineBytes else {
            throw LogbookError(.badInput, "the event would be \(size) bytes; the limit is \(Event.maxLineBytes)", plan: plan, task: r.task, rule: "size_limit")
        }
        if let keys = options.verifyKeys, let signer {
            // The server path: the key must be the one personas.json has (sign(_:) then verifies each signature).
            guard let kid = e.keyID, let pk = keys[kid], pk.persona == e.persona, pk.raw == signer.publicKey.raw else {
                throw LogbookError(.badSignature, "the key given for \(r.persona) is not the key personas.json has for \(e.keyID ?? "(none)")",
                                   plan: plan, task: r.task, rule: "signature")
            }
        }
        // The rules see a signed event (only whether it is signed matters to them); sign(_:) signs it.
        if signer != nil { e.sig = StatusBook.unsignedYet }
        try state.apply(e)
        return (e, hashed, nil)
    }

    static let hashMemberBytes = #","hash":"sha256:"#.utf8.count + 64 + 1
    static let sigMemberBytes = #","sig":""#.utf8.count + 88 + 1
    static let unsignedYet = [UInt8](repeating: 0, count: 64)

    /// Signs prepared events (their hashes are final), verifies each signature on the server
    /// path, and writes their lines; on every core when there are several.
    ///
    /// - Throws: `badSignature` if a signature does not verify; then nothing of the batch is written.
    func sign(_ batch: [Prepared]) throws(LogbookError) -> [(event: Event, line: [UInt8])] {
        let keys = options.verifyKeys
        @Sendable func one(_ p: Prepared) -> (event: Event, line: [UInt8])? {
            var e = p.event
            e.sig = p.signer.map { $0.sign(e.hash) }
            if let keys, let sig = e.sig {
                guard let kid = e.keyID, let pk = keys[kid], pk.isValid(signature: sig, for: e.hash) else { return nil }
            }
            var line = Verifier.insertingHashAndSignature(p.hashed, hash: e.hash, sig: e.sig)
            line.append(0x0A)
            assert(line == e.line, "the line built from the hashed bytes differs from the canonical line")
            return (e, line)
        }
        let n = batch.count
        var out: [(event: Event, line: [UInt8])?]
        if n < 2 {
            out = batch.map(one)
        } else {
            let buf = UnsafeMutableBufferPointer<(event: Event, line: [UInt8])?>.allocate(capacity: n)
            buf.initialize(repeating: nil)
            defer { buf.deinitialize(); buf.deallocate() }
            nonisolated(unsafe) let results = buf
            let lanes = min(n, ProcessInfo.processInfo.activeProcessorCount)
            DispatchQueue.concurrentPerform(iterations: lanes) { lane in
                var k = lane
                while k < n {
                    results[k] = one(batch[k])
                    k += lanes
                }
            }
            out = Array(buf)
        }
        var done: [(event: Event, line: [UInt8])] = []
        done.reserveCapacity(n)
        for (k, r) in out.enumerated() {
            guard let r else {
                throw LogbookError(.badSignature, "the signature of \(batch[k].event.persona)'s event does not verify with the key personas.json has; nothing was written",
                                   plan: plan.id, task: batch[k].event.task, rule: "signature")
            }
            done.append(r)
        }
        return done
    }

    /// The event at `seq`, read from the store: from the nearest position this book knows
    /// before it (recent commits, the snapshot, the tail it replayed), else from the start.
    public func event(at seq: Int) async throws -> Event {
        let start = inner.withLock { i in i.anchors.last { $0.seq < seq } }
        var found: Event?
        var n = (start?.seq ?? -1) + 1
        var at = start?.end ?? 0
        while found == nil {
            let batch = try await store.read(ref, from: at, limit: 64 * 1024)
            guard let last = batch.last else { break }
            for line in batch {
                if n == seq { found = try Event(line: line.bytes); break }
                n += 1
            }
            at = last.end
        }
        if let e = found, e.seq != seq {
            // The anchor did not match the journal (it cannot, unless the file changed under us):
            // read it the slow way, from the start.
            var slow: Event?
            var k = 0
            try await store.forEachLine(ref) { line in
                if slow == nil, k == seq { slow = try Event(line: line.bytes) }
                k += 1
            }
            found = slow
        }
        guard let found else { throw LogbookError(.notFound, "no event at seq \(seq)", plan: plan.id, seq: seq) }
        return found
    }
}

/// An event whose rules and chain are settled, waiting for its signature.
struct Prepared: Sendable {
    var index: Int
    var event: Event
    var hashed: [UInt8]
    var signer: SigningKey?
}

extension Event {
    /// A value to fill in before the real one (never written).
    static let placeholder = Event(seq: 0, prev: Digest256(bytes: [UInt8](repeating: 0, count: 32)), ts: "", g: 0, plan: "", task: nil,
                                   persona: "", archetype: nil, type: .progress, data: JSONObject(), traceID: nil, idempotencyKey: nil,
                                   keyID: nil, hash: Digest256(bytes: [UInt8](repeating: 0, count: 32)), sig: nil)
}

enum Outcome: Sendable {
    case appended(Event)
    case repeatOf(Int)
}

/// One waiting request and, once committed, its outcome.
final class Waiter: Sendable {
    let request: EventRequest
    let signer: SigningKey?
    private let state = Mutex<(Result<Outcome, any Error>?, CheckedContinuation<Outcome, any Error>?)>((nil, nil))

    init(request: EventRequest, signer: SigningKey?) {
        self.request = request
        self.signer = signer
    }

    func finish(_ r: Result<Outcome, any Error>) {
        let c = state.withLock { s -> CheckedContinuation<Outcome, any Error>? in
            s.0 = r
            let c = s.1
            s.1 = nil
            return c
        }
        c?.resume(with: r)
    }

    func outcome() async throws -> Outcome {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Outcome, any Error>) in
            let ready = state.withLock { s -> Result<Outcome, any Error>? in
                if let r = s.0 { return r }
                s.1 = c
                return nil
            }
            if let ready { c.resume(with: ready) }
        }
    }
}

/// Per-request results filled in while the store holds its exclusion.
final class ResultBox: Sendable {
    private let results: Mutex<[Result<Outcome, any Error>?]>
    init(count: Int) { results = Mutex(Array(repeating: nil, count: count)) }
    func set(_ k: Int, _ r: Result<Outcome, any Error>) { results.withLock { $0[k] = r } }
    func get(_ k: Int) -> Result<Outcome, any Error>? { results.withLock { $0[k] } }
}
