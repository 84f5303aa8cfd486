import Foundation
import Synchronization

extension StatusBook {
    /// Records one event; returns it once it is durable (or the first event of a repeat).
    ///
    /// The statement is made here with `seen` = the head this book knows and the agent's time
    /// from ``Options/now``, and signed with `signer` before it is queued: outside the store's
    /// exclusion and this book's lock.
    ///
    /// - Throws: ``LogbookError`` naming the rule that refused the event; nothing is written then.
    public func submit(_ request: EventRequest, signer: SigningKey?) async throws -> Event {
        if let signer, signer.persona != request.persona {
            throw LogbookError(.badSignature, "the key given belongs to \(signer.persona), not \(request.persona)", plan: plan.id, task: request.task)
        }
        let (seen, known) = inner.withLock { i in
            (Statement.Seen(seq: i.state.seq, hash: i.state.head ?? genesis.prev), signer.flatMap { i.keys[$0.publicKey.keyID] })
        }
        if let signer, let known, known.raw != signer.publicKey.raw {
            throw LogbookError(.badSignature, "the private key given for \(request.persona) is not the key this journal records for \(signer.publicKey.keyID)",
                               plan: plan.id, task: request.task, rule: "signature")
        }
        let st = Statement(plan: plan.id, task: request.task, persona: request.persona, keyID: signer?.publicKey.keyID,
                           type: request.type, data: request.data, traceID: request.traceID, idempotencyKey: request.idempotencyKey,
                           expectTaskSeq: request.expectedTaskSeq, at: Timestamp.string(options.now()), seen: seen)
        let signed = SignedStatement(st, signer: signer)
        if let keys = options.verifyKeys, let signer {
            // The server path: the key must be the one personas.json has, and the signature verify with it.
            let kid = signer.publicKey.keyID
            guard let pk = keys[kid], pk.persona == request.persona, pk.raw == signer.publicKey.raw, signed.isSigned(by: pk) else {
                throw LogbookError(.badSignature, "the key given for \(request.persona) is not the key personas.json has for \(kid)",
                                   plan: plan.id, task: request.task, rule: "signature")
            }
        }
        return try await enqueue(Waiter(statement: signed, signer: signer))
    }

    /// Appends a statement signed elsewhere (a remote agent, an offline one): this process holds
    /// no private key. Returns the event once durable, or the first event if the same statement
    /// (the same signed bytes) or the same idempotency key was appended before.
    ///
    /// The signature is verified here, before the statement is queued, with the key this
    /// journal records for the statement's `key_id` (genesis or `key_changed`; else
    /// personas.json's, when the book was given ``Options/lineKeys``); under the lock the rules
    /// check that it is the key the plan trusts for the persona now.
    ///
    /// - Throws: `badInput` rule `plan` (another plan's statement), `badSignature` rule
    ///   `signature`, `conflict` rule `seen` (a head this journal does not have), or any rule.
    public func submit(_ s: SignedStatement) async throws -> Event {
        try await record(s).event
    }

    /// What ``record(_:)`` did with a statement.
    public struct Recorded: Sendable {
        /// The event that records the statement: the new one, or the first one for a repeat.
        public var event: Event
        /// Its journal line: the RFC 8785 bytes and a newline, as the journal holds them.
        public var line: [UInt8]
        /// True when the statement (or its idempotency key) was recorded before and nothing was
        /// appended now.
        public var repeated: Bool
    }

    /// ``submit(_:)-(SignedStatement)`` that also says whether the event was appended now or is
    /// the first event of a repeat (the server answers 201 or 200).
    public func record(_ s: SignedStatement) async throws -> Recorded {
        let st = s.statement
        guard st.plan == plan.id else {
            throw LogbookError(.badInput, "the statement is for plan \(st.plan), not \(plan.id)", plan: plan.id, task: st.task, rule: "plan")
        }
        if s.sig != nil || st.keyID != nil {
            guard let kid = st.keyID, s.sig != nil else {
                throw LogbookError(.badSignature, st.keyID == nil ? "the statement carries a signature but no key_id" : "the statement names key \(st.keyID!) but carries no signature",
                                   plan: plan.id, task: st.task, rule: "signature")
            }
            let pk = inner.withLock { i in i.keys[kid] } ?? options.lineKeys?[kid] ?? options.verifyKeys?[kid]
            guard let pk, pk.persona == st.persona else {
                throw LogbookError(.badSignature, "key \(kid) is not a key this journal records for \(st.persona)", plan: plan.id, task: st.task, rule: "signature")
            }
            guard s.isSigned(by: pk) else {
                throw LogbookError(.badSignature, "the statement's signature does not verify with \(kid)", plan: plan.id, task: st.task, rule: "signature")
            }
        }
        return try await enqueueRecording(Waiter(statement: s, signer: nil))
    }

    /// Queues a statement and waits for its outcome, leading commits when no one else does (or
    /// when a leader hands leadership to this caller).
    func enqueue(_ w: Waiter) async throws -> Event {
        try await enqueueRecording(w).event
    }

    func enqueueRecording(_ w: Waiter) async throws -> Recorded {
        let lead = inner.withLock { i -> Bool in
            i.pending.append(w)
            if i.committing { return false }
            i.committing = true
            return true
        }
        if lead { await commitLoop() }
        while true {
            switch try await w.next() {
            case .lead: await commitLoop()
            case .done(.appended(let e, let line)): return Recorded(event: e, line: line, repeated: false)
            case .done(.repeatOf(let seq)):
                let e = try await event(at: seq)
                return Recorded(event: e, line: e.line, repeated: true)
            }
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
            // and cursor agree); then the requests that came in meanwhile get a new leader (the
            // first waiting caller, in its own task), so they do not wait for the write, and
            // this leader stores it; its own caller returns after that (a one-shot CLI writer
            // exits with the snapshot written).
            let snapshot = inner.withLock { i in (doc: i.state.snapshot(), seq: i.state.seq) }
            let next = inner.withLock { i -> Waiter? in
                if i.pending.isEmpty { i.committing = false }
                return i.pending.first
            }
            next?.promote()
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
        let started = ContinuousClock.now
        let results = ResultBox(count: batch.count)
        // Catch up with other processes' events before taking the store's exclusion, so that the
        // lock is held only to fold what arrived since (writers fold every event; doing most of
        // it outside the lock lets them do it at the same time). Their signatures are checked
        // under the lock, where the newest check mark covers them all. A damaged line is left
        // for the locked path, which reports it.
        let pre = await prefold()
        // A statement that saw a head older than the history this book keeps (signed offline,
        // or long queued): read the events after it, outside the lock, so the `seen` rule and
        // the repeat check have them.
        let oldest = batch.map(\.statement.statement.seen.seq).min() ?? 0
        if oldest < inner.withLock({ $0.history.base }) {
            do { try await extendHistory(back: oldest) } catch {
                for w in batch { w.finish(.failure(error)) }
                return nil
            }
        }
        let before = inner.withLock { ($0.state, $0.cursor) }
        var appended: [Int] = []
        do {
            let signers = batch.compactMap(\.signer)
            // What the fold before the lock read is not read again under it.
            let from = pre?.base == before.1 ? pre!.cursor : before.1
            let end = try await store.append(ref, from: from, marking: { [self] newer, markBytes in
                try inner.withLock { i throws(LogbookError) -> MarkedLines in
                    let now = options.now()
                    if try catchUpLocked(&i, newer: newer, markBytes: markBytes, pre: pre) { i.othersWroteAt = now }
                    i.anchor(i.state.seq, i.cursor)  // where this batch's lines start
                    // The time under the exclusion, after every earlier event: never before the head's.
                    let ts = Timestamp.string(now, notBefore: i.state.lastTS)
                    // The batch folds into a copy of the state (readers keep the durable one until
                    // the append returns) but into the history itself, in place: copying a
                    // history of thousands of entries per commit cost more than the commit. The
                    // history may run ahead of the state (absorb leaves it so); a failed append
                    // truncates it back.
                    var working = i.state
                    defer { i.working = working }
                    var out: [[UInt8]] = []
                    for (k, w) in batch.enumerated() {
                        do throws(LogbookError) {
                            switch try working.admitAndFold(w.statement, ts: ts, g: g, history: i.history) {
                            case .repeatOf(let seq):
                                results.set(k, .success(.repeatOf(seq)))
                            case .append(let e, let line):
                                i.history.append(seq: e.seq, hash: e.hash, statement: w.statement.digest)
                                out.append(line)
                                results.set(k, .success(.appended(e, line: line)))
                            }
                        } catch {
                            results.set(k, .failure(error.with(plan: plan.id, task: w.statement.statement.task)))
                        }
                    }
                    // The head after this batch, vouched for by one of its signers: every line up
                    // to it was checked here, or is this batch's own. Only while other processes
                    // write (this book folded their lines in the last minute): a lone writer's
                    // marks would save no one anything, and a process that joins checks the lines
                    // since the last mark once.
                    guard !out.isEmpty, let seen = i.othersWroteAt, now.timeIntervalSince(seen) < StatusBook.markWindow,
                          let mark = newMark(for: working, signers: signers) else { return MarkedLines(lines: out) }
                    i.verifiedMark = mark.bytes
                    return MarkedLines(lines: out, checkMark: mark.bytes)
                }
            })
            inner.withLock { i in
                // Durable now: the batch becomes part of the book's state (unless a reader has
                // meanwhile folded it, and more, from the journal).
                if let w = i.working, w.seq >= i.state.seq {
                    i.state = w
                    i.cursor = end
                }
                i.working = nil
                for k in batch.indices { if case .success(.appended(let e, _))? = results.get(k) { i.keys.note(e) } }
                i.anchor(i.state.seq, i.cursor)
                i.history.trim(to: StatusBook.historyLimit)
            }
            for (k, w) in batch.enumerated() { w.finish(results.get(k) ?? .failure(LogbookError(.io, "no result"))) }
            // A batch that was wholly refused or repeated writes nothing, not even a snapshot.
            appended = batch.indices.compactMap { k -> Int? in
                if case .success(.appended(let e, _))? = results.get(k) { return e.seq } else { return nil }
            }
            options.observeCommit?(CommitReport(statements: batch.count, appended: appended.count, seconds: started.duration(to: .now).seconds))
            guard !appended.isEmpty else { return nil }
        } catch {
            options.observeCommit?(CommitReport(statements: batch.count, appended: 0, seconds: started.duration(to: .now).seconds))
            // Nothing may be acknowledged: forget what this batch folded and reload from the store.
            inner.withLock { i in
                i.state = before.0
                i.cursor = before.1
                i.working = nil
                i.history.truncate(after: before.0.seq)
            }
            for (k, w) in batch.enumerated() {
                if case .failure(let own)? = results.get(k) { w.finish(.failure(own)) } else { w.finish(.failure(error)) }
            }
            return nil
        }
        // After each durable commit that appended: the snapshot when due, then the hook (in that order).
        let signers = batch.compactMap(\.signer)
        return Committed(snapshotDue: snapshotDue(appended: appended, canSeal: signers.contains(where: trusts)), signers: signers)
    }

    /// Reads the events from `seq` up to the oldest one the history knows and prepends them, so
    /// that the history covers every event after `seq`. Only the commit leader calls it.
    ///
    /// - Throws: `.corrupt` if the journal's lines do not continue into the history (the
    ///   journal changed under this book).
    func extendHistory(back seq: Int) async throws {
        let (base, baseHash, start) = inner.withLock { i in (i.history.base, i.history.baseHash, i.anchors.last { $0.seq < seq }) }
        var n = (start?.seq ?? -1) + 1
        var at = start?.end ?? 0
        var entries: [Folded] = []
        var seenHash: Digest256? = seq == -1 ? genesis.prev : nil  // seq -1: the plan digest
        reading: while n <= base {
            let lines = try await store.read(ref, from: at, limit: 1 << 20)
            guard let last = lines.last else { break }
            for line in lines {
                if n > base { break reading }
                if n >= seq {
                    let e = try Event(line: line.bytes)
                    guard e.seq == n, let r = Event.statementRange(in: line.bytes) else {
                        throw LogbookError(.corrupt, "the journal line read as seq \(n) is seq \(e.seq); run `logbook verify`", plan: plan.id, seq: n)
                    }
                    if n == seq { seenHash = e.hash } else { entries.append(Folded(seq: n, hash: e.hash, statement: Digest256.of(line.bytes[r]))) }
                }
                n += 1
            }
            at = last.end
        }
        guard let seenHash, entries.count == base - seq, entries.last?.hash ?? seenHash == baseHash else {
            throw LogbookError(.corrupt, "the journal's events \(seq)…\(base) do not lead to the head this book knows; run `logbook verify`", plan: plan.id, seq: seq)
        }
        var older = StatementHistory(seq: seq, hash: seenHash)
        for f in entries { older.append(seq: f.seq, hash: f.hash, statement: f.statement) }
        inner.withLock { i in i.history.prepend(older) }
    }

    /// Whether to write the snapshot after a batch: when it appended a seq that is a multiple of
    /// the interval (exactly one writer per interval, however many processes write); when there
    /// is no trusted snapshot (deleted, damaged, unsealed, forged: snapshotSeq -1); or when this
    /// book has not stored one for ``Options/snapshotMaxAge`` seconds, or never (so a one-shot
    /// CLI writer always leaves the file at its own event, and a long-lived book refreshes it
    /// on its first commit past the time bound).
    ///
    /// A book that holds no key the genesis trusts (a server appending statements signed
    /// elsewhere) cannot seal a snapshot: without a trusted one it stores an unsealed one once,
    /// then on the interval and the time bound only (storing it on every commit would cost a
    /// full snapshot per commit and make it no more trusted).
    func snapshotDue(appended: [Int], canSeal: Bool) -> Bool {
        let interval = max(1, options.snapshotInterval)
        if appended.contains(where: { $0 % interval == 0 }) { return true }
        let now = options.now()
        return inner.withLock { i in
            guard let at = i.snapshotStoredAt else { return true }
            if i.snapshotSeq < 0, canSeal { return true }
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

    /// The event at `seq`, read from the store: the line the store finds by seq (a binary search
    /// for files), else from the nearest position this book knows before it (recent commits, the
    /// snapshot, the tail it replayed), else from the start.
    public func event(at seq: Int) async throws -> Event {
        // The store finds a line by seq without reading the journal (files: a binary search).
        if let line = try await store.line(atSeq: seq, hint: nil, ref), let e = try? Event(line: line.bytes), e.seq == seq { return e }
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

/// One commit of a book, for metrics (``StatusBook/Options/observeCommit``).
public struct CommitReport: Sendable {
    /// Statements in the batch (the group commit's size).
    public var statements: Int
    /// Events it appended (the rest were refused or repeats; 0 when the append failed).
    public var appended: Int
    /// From taking the batch to the outcome: folding, the store's exclusion, the sync.
    public var seconds: Double
}

extension Duration {
    /// The duration in seconds, as a Double.
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}

enum Outcome: Sendable {
    /// The event and its journal line.
    case appended(Event, line: [UInt8])
    case repeatOf(Int)
}

/// One waiting statement and, once committed, its outcome; or a call to lead the next commits.
final class Waiter: Sendable {
    enum Next: Sendable {
        case done(Outcome)
        /// The previous leader handed over (it stores a snapshot): this caller leads now.
        case lead
    }

    let statement: SignedStatement
    /// The key the book signed with (sealing the snapshot, the after-commit hook); nil for a
    /// statement signed elsewhere.
    let signer: SigningKey?
    private let state = Mutex<(result: Result<Outcome, any Error>?, lead: Bool, waiting: CheckedContinuation<Next, any Error>?)>((nil, false, nil))

    init(statement: SignedStatement, signer: SigningKey?) {
        self.statement = statement
        self.signer = signer
    }

    func finish(_ r: Result<Outcome, any Error>) {
        let c = state.withLock { s -> CheckedContinuation<Next, any Error>? in
            s.result = r
            let c = s.waiting
            s.waiting = nil
            return c
        }
        c?.resume(with: r.map(Next.done))
    }

    /// Makes this waiter's caller the leader (its task runs the commit loop).
    func promote() {
        let c = state.withLock { s -> CheckedContinuation<Next, any Error>? in
            if s.result != nil { return nil }
            guard let c = s.waiting else { s.lead = true; return nil }
            s.waiting = nil
            return c
        }
        c?.resume(returning: .lead)
    }

    /// The outcome, or a call to lead.
    func next() async throws -> Next {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Next, any Error>) in
            let ready = state.withLock { s -> Result<Next, any Error>? in
                if let r = s.result { return r.map(Next.done) }
                if s.lead { s.lead = false; return .success(.lead) }
                s.waiting = c
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
