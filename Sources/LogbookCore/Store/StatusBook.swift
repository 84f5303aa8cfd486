import Foundation
import Synchronization

/// The writer and exact reader of one plan's status, over any ``JournalStore``.
///
/// A writer's statement is signed before it is queued, outside every lock (envelope v2: the
/// signature covers the statement, not its position). Appends from many tasks in one process
/// are batched: one caller at a time leads a commit that takes the store's exclusion once,
/// admits every waiting statement against the exact state (``StatusState/admit(_:ts:g:history:)``),
/// places, hashes and writes them together and waits for one durable sync (group commit).
/// Across processes the store's exclusion serialises the batches and each batch first folds in
/// what others wrote.
///
/// ```swift
/// let book = try await StatusBook.open(store: store, ref: ref, plan: spec, options: .init())
/// let e = try await book.submit(EventRequest(type: .started, task: "T1", persona: "DEV"), signer: key)
/// let f = try await book.submit(SignedStatement(statementSignedElsewhere, signer: remoteKey))  // no key here
/// ```
public final class StatusBook: Sendable {
    public struct Options: Sendable {
        /// Write the snapshot every this many events (by the writer that appends a seq that is a
        /// multiple of it), so the stored snapshot lags the journal by at most this many events.
        public var snapshotInterval: Int
        /// ... and after a commit when this book has not stored a snapshot for this many seconds
        /// (or ever: a one-shot writer's commit always refreshes the file), so it lags by about
        /// this long at most (docs/FORMAT.md, "Snapshot trust and freshness").
        public var snapshotMaxAge: Double
        /// Where a snapshot write that failed is reported (the commit stands; the file is a
        /// cache). The file store logs it as a warning naming the file.
        public var warn: (@Sendable (String) -> Void)?
        public var now: @Sendable () -> Date
        /// The workspace g recorded in each event (read, not advanced).
        public var currentG: @Sendable () throws -> Int
        /// The server path: when set, every statement this book signs with a caller's key is
        /// also checked against the key of its `key_id` here (the persona registry's keys) and
        /// its signature verified before it is queued; one that does not is refused
        /// (`badSignature`) and nothing is written. (Statements signed elsewhere, given to
        /// ``StatusBook/submit(_:)``, are always verified, with the key the journal records.)
        public var verifyKeys: [String: PublicKey]?
        /// When set, the signature of every journal line this book folds but did not write itself
        /// (lines other processes appended, the tail after a snapshot, a full replay) is checked
        /// over the line's statement bytes, with the key the journal records for its key id
        /// (genesis, `key_changed`), else the key of that id here (personas.json's). A line whose
        /// signature does not verify stops the read (`.corrupt`, its seq), so a line forged by
        /// someone without the key is never built on. Nil: not checked here (`verify` checks
        /// every line).
        public var lineKeys: [String: PublicKey]?

        /// Called after each durable commit with the keys that signed its events (the file store
        /// uses it to sign a checkpoint when the commit rotated the journal). Errors are the
        /// hook's to report; the commit stands.
        public var afterCommit: (@Sendable (_ signers: [SigningKey]) async -> Void)?

        /// Called after each commit (appended, wholly refused, or failed) with its batch size and
        /// duration: where a server's metrics come from. Must not block.
        public var observeCommit: (@Sendable (CommitReport) -> Void)?

        public init(snapshotInterval: Int = 64, now: @escaping @Sendable () -> Date = { Date() },
                    currentG: @escaping @Sendable () throws -> Int = { 0 },
                    afterCommit: (@Sendable (_ signers: [SigningKey]) async -> Void)? = nil,
                    verifyKeys: [String: PublicKey]? = nil, snapshotMaxAge: Double = 1.0,
                    warn: (@Sendable (String) -> Void)? = nil, lineKeys: [String: PublicKey]? = nil) {
            self.lineKeys = lineKeys
            self.snapshotInterval = snapshotInterval
            self.snapshotMaxAge = snapshotMaxAge
            self.warn = warn
            self.now = now
            self.currentG = currentG
            self.afterCommit = afterCommit
            self.verifyKeys = verifyKeys
        }
    }

    public let ref: JournalRef
    public let plan: PlanSpec
    /// The journal's seq 0, read and hash-checked at open: the trust roots (personas and keys)
    /// a snapshot's seal is checked against.
    public let genesis: Event
    let store: any JournalStore
    let options: Options
    let inner: Mutex<Inner>

    struct Inner {
        var state: StatusState
        var cursor: Int64
        /// Seq of the last snapshot known to be stored and trusted; -1 when the stored one could
        /// not be proved (missing, damaged, unsealed, forged): the next commit stores one.
        var snapshotSeq: Int
        /// When this book last stored a snapshot (nil: never; its next commit stores one).
        var snapshotStoredAt: Date?
        var pending: [Waiter] = []
        var committing = false
        /// The state with the batch being committed folded in: `state` itself stays the state at
        /// `cursor` (what is in the journal), so a reader meanwhile never folds the batch twice
        /// and never sees events that are not yet acknowledged as part of the book's own state.
        var working: StatusState?
        var snapshotWriting = false
        /// Known (seq, cursor after that seq's line) pairs, newest last, at most ``anchorLimit``:
        /// where to start reading for ``StatusBook/event(at:)`` (an idempotent repeat) instead of
        /// the journal's start.
        var anchors: [(seq: Int, end: Int64)] = []
        /// Hashes and statement digests of the events up to `state.seq` (a recent run): what
        /// the `seen` rule and the repeat check look up; trimmed to ``StatusBook/historyLimit``
        /// between commits. While a batch commits it also holds the batch (it runs ahead of
        /// `state` until the append returns; a failed append truncates it back).
        var history: StatementHistory
        /// The public keys the journal records (genesis, `key_changed` folded by this book).
        var keys: TrustedKeys
        /// The bytes of the last check mark whose signature this book verified (or made).
        var verifiedMark: [UInt8]?
        /// Signatures checked so far (lines and marks).
        var signaturesChecked = 0
        /// When this book last folded a line another process wrote (it signs check marks for
        /// ``StatusBook/markWindow`` after that).
        var othersWroteAt: Date?

        mutating func anchor(_ seq: Int, _ end: Int64) {
            guard seq >= 0 else { return }
            if let last = anchors.last, last.seq >= seq { return }
            if anchors.count >= StatusBook.anchorLimit { anchors.removeFirst(anchors.count / 2) }
            anchors.append((seq, end))
        }
    }

    static let anchorLimit = 256
    static let historyLimit = 4096
    /// How long after folding another process's line a writer keeps signing check marks.
    static let markWindow: Double = 60

    init(store: any JournalStore, ref: JournalRef, plan: PlanSpec, genesis: Event, options: Options, state: StatusState, cursor: Int64, snapshotSeq: Int) {
        self.store = store
        self.ref = ref
        self.plan = plan
        self.genesis = genesis
        self.options = options
        self.inner = Mutex(Inner(state: state, cursor: cursor, snapshotSeq: snapshotSeq,
                                 history: StatementHistory(seq: state.seq, hash: state.head ?? genesis.prev),
                                 keys: TrustedKeys(genesis: genesis)))
    }

    /// Opens the status: the stored snapshot if it is proved (sealed by a key the genesis trusts
    /// and bound to the journal line at its cursor) plus the tail; else a replay from seq 0.
    ///
    /// A snapshot that could not be proved and differs from the replayed state (missing,
    /// damaged, forged, behind) is rebuilt now, unsealed (a reader holds no key); the next
    /// writer's commit seals it.
    ///
    /// - Parameter genesis: the journal's seq 0 when the caller has just read it with
    ///   ``readGenesis(store:ref:plan:)`` (the file backend does, to prove the plan), so it is
    ///   not read twice.
    public static func open(store: any JournalStore, ref: JournalRef, plan: PlanSpec, options: Options = Options(),
                            genesis: Event? = nil) async throws -> StatusBook {
        let loaded = try await loadState(store: store, ref: ref, plan: plan, keys: options.lineKeys, genesis: genesis)
        let book = StatusBook(store: store, ref: ref, plan: plan, genesis: loaded.genesis, options: options, state: loaded.state,
                              cursor: loaded.cursor, snapshotSeq: loaded.snapshotSeq)
        book.inner.withLock { i in
            if let c = loaded.snapshotCursor { i.anchor(loaded.snapshotSeq, c) }
            i.anchor(loaded.state.seq, loaded.cursor)
        }
        if case .untrusted(let stored, _) = loaded.snapshot { await book.rebuildSnapshot(replacing: stored) }
        return book
    }

    /// Folds every line from `cursor` into `state`, checking each hash and rule, and with
    /// `keys` each signature; `trusting` are the keys the journal is known to record so far (a
    /// check mark by one of them may prove the signatures it covers).
    static func replay(store: any JournalStore, ref: JournalRef, into state: inout StatusState, from cursor: Int64,
                       keys: [String: PublicKey]?, trusting known: TrustedKeys = TrustedKeys()) async throws -> Int64 {
        var trusted = known
        var folded: [Folded] = []
        var mark: [UInt8]?
        var checks = 0
        return try await replay(store: store, ref: ref, into: &state, from: cursor, keys: keys, trusted: &trusted, folded: &folded,
                                verifiedMark: &mark, checks: &checks)
    }

    /// ``replay(store:ref:into:from:keys:)`` that also notes the keys the lines record and
    /// returns each folded event's hash and statement digest. With `keys`, the check mark the
    /// store gives with each batch of lines proves the signatures it covers (when
    /// ``acceptedMark(_:ref:state:trusted:verified:checks:)`` accepts it) instead of one check
    /// per line; `verifiedMark` is the last mark known to verify (updated), `checks` counts the
    /// signatures checked.
    static func replay(store: any JournalStore, ref: JournalRef, into state: inout StatusState, from cursor: Int64,
                       keys: [String: PublicKey]?, trusted: inout TrustedKeys, folded: inout [Folded],
                       verifiedMark: inout [UInt8]?, checks: inout Int) async throws -> Int64 {
        var end = cursor
        var s = state
        var t = trusted
        var out: [Folded] = []
        // Each batch of lines comes with the newest check mark kept with lines durable at that
        // moment (one view of the store), so a reader chasing a busy journal's tail has a mark
        // for each batch it reads.
        var cover: MarkCover?
        while true {
            let (lines, markBytes) = try await store.readWithCheckMark(ref, from: end, limit: 1 << 20)
            guard !lines.isEmpty else { break }
            if keys != nil, markBytes != nil, markBytes != cover?.mark?.bytes {
                try cover?.finish(plan: s.plan.id, checks: &checks)
                cover = acceptedMark(markBytes, ref: ref, state: s, trusted: t, verified: verifiedMark, checks: &checks)
                if cover != nil { verifiedMark = markBytes }
            }
            for line in lines {
                out.append(try fold(line, into: &s, keys: keys, trusted: &t, cover: &cover, checks: &checks))
                end = line.end
            }
        }
        try cover?.finish(plan: s.plan.id, checks: &checks)
        state = s
        trusted = t
        folded = out
        return end
    }

    /// What folding a line leaves for the history.
    struct Folded: Sendable {
        var seq: Int
        var hash: Digest256
        var statement: Digest256
    }

    /// Folds one line another writer appended (or a replayed one): parsed, hash checked, with
    /// `keys` its signature checked over the statement bytes sliced from the line (the rules
    /// require the key id the plan trusts for its persona; this proves the signature is that
    /// key's), then every rule.
    @discardableResult
    static func fold(_ line: JournalLine, into state: inout StatusState, keys: [String: PublicKey]? = nil) throws(LogbookError) -> Folded {
        var trusted = TrustedKeys()
        return try fold(line, into: &state, keys: keys, trusted: &trusted)
    }

    static func fold(_ line: JournalLine, into state: inout StatusState, keys: [String: PublicKey]?,
                     trusted: inout TrustedKeys) throws(LogbookError) -> Folded {
        var cover: MarkCover?
        var n = 0
        return try fold(line, into: &state, keys: keys, trusted: &trusted, cover: &cover, checks: &n)
    }

    /// ``fold(_:into:keys:trusted:)`` whose signature check waits in `cover` when the mark
    /// covers the line (the caller calls ``MarkCover/finish(plan:checks:)`` before it keeps the state).
    static func fold(_ line: JournalLine, into state: inout StatusState, keys: [String: PublicKey]?,
                     trusted: inout TrustedKeys, cover: inout MarkCover?, checks: inout Int) throws(LogbookError) -> Folded {
        // A line that fails while earlier signatures wait for a mark: those are checked first,
        // so the refusal names the first bad line.
        func fail(_ error: LogbookError) throws(LogbookError) -> Never {
            try cover?.finish(plan: state.plan.id, checks: &checks)
            throw error
        }
        let e: Event
        do { e = try Event(line: line.bytes) } catch {
            try fail(LogbookError(.corrupt, "journal line after seq \(state.seq) is damaged: \(error.message); run `logbook verify`", plan: state.plan.id, seq: state.seq + 1))
        }
        guard let r = Event.statementRange(in: line.bytes), let hashed = Event.removingHashMember(line.bytes),
              Digest256.of(hashed) == e.hash else {
            try fail(LogbookError(.corrupt, "journal event hash does not match its content; run `logbook verify`", plan: state.plan.id, seq: e.seq))
        }
        let stmtBytes = line.bytes[r]
        if keys != nil, let sig = e.sig {
            let pk = e.keyID.flatMap { trusted[$0] ?? keys?[$0] }
            guard let pk, pk.persona == e.persona else {
                try fail(signatureError(plan: state.plan.id, task: e.task, seq: e.seq, persona: e.persona, keyID: e.keyID))
            }
            let message = Statement.signingBytes(Array(stmtBytes))
            if cover?.covers(e.seq) == true {
                cover!.deferred.append(.init(seq: e.seq, task: e.task, persona: e.persona, keyID: e.keyID, key: pk, message: message, sig: sig))
            } else {
                checks += 1
                guard pk.isValid(signature: sig, message: message) else {
                    try fail(signatureError(plan: state.plan.id, task: e.task, seq: e.seq, persona: e.persona, keyID: e.keyID))
                }
            }
        }
        do { try state.apply(e) } catch {
            try fail(LogbookError(.corrupt, "journal event breaks a rule (\(error.description)); run `logbook verify`", plan: state.plan.id, seq: e.seq))
        }
        trusted.note(e)
        try cover?.folded(seq: e.seq, hash: e.hash, state: state, plan: state.plan.id, checks: &checks)
        return Folded(seq: e.seq, hash: e.hash, statement: Digest256.of(stmtBytes))
    }

    /// The exact current state: everything durable in the journal, including other writers' events.
    public func state() async throws -> StatusState {
        let (start, cursor, known, known0) = inner.withLock { ($0.state, $0.cursor, $0.keys, $0.verifiedMark) }
        var state = start
        var keys = known
        var folded: [Folded] = []
        var checks = 0
        var verified = known0
        let end: Int64
        do {
            end = try await StatusBook.replay(store: store, ref: ref, into: &state, from: cursor, keys: options.lineKeys,
                                              trusted: &keys, folded: &folded, verifiedMark: &verified, checks: &checks)
        } catch {
            inner.withLock { $0.signaturesChecked += checks }
            throw error
        }
        return inner.withLock { i in
            i.signaturesChecked += checks
            if verified != known0 { i.verifiedMark = verified }
            if !folded.isEmpty { i.othersWroteAt = options.now() }
            if state.seq > i.state.seq {
                i.state = state
                i.cursor = end
                i.keys = keys
                i.absorb(folded, head: state)
                i.anchor(state.seq, end)
            }
            if !i.committing { i.history.trim(to: StatusBook.historyLimit) }
            return i.state
        }
    }

    /// The snapshot document of the current state and the cursor it reflects (unsealed).
    public func snapshotBytes() async throws -> (bytes: [UInt8], seq: Int) {
        _ = try await state()
        return inner.withLock { i in (PrettyJSON.bytes(i.state.snapshot()), i.state.seq) }
    }

    /// Writes the snapshot of the current state now, durably; sealed with `sealer` when the
    /// genesis records its key for its persona (else unsealed: readers replay it from seq 0
    /// until a writer seals one).
    ///
    /// - Throws: the store's error naming the file; the journal is unaffected.
    public func writeSnapshot(sealedBy sealer: SigningKey? = nil) async throws {
        _ = try await state()
        let (doc, seq) = inner.withLock { i in (i.state.snapshot(), i.state.seq) }
        try await store.storeSnapshot(ref, sealedBytes(doc, sealer: sealer.flatMap { trusts($0) ? $0 : nil }), seq: seq, SnapshotWrite(durable: true))
        noteStored(seq: seq, sealed: sealer.map(trusts) ?? false)
    }
}

extension StatusBook.Inner {
    /// Adds folded events to the history (kept contiguous: after a gap it starts over at the head).
    mutating func absorb(_ folded: [StatusBook.Folded], head: StatusState) {
        for f in folded where f.seq > history.head {
            if f.seq == history.head + 1 {
                history.append(seq: f.seq, hash: f.hash, statement: f.statement)
            } else {
                history.reset(seq: f.seq, hash: f.hash)
            }
        }
        // A history behind the head starts over there; one ahead of it holds a commit in flight.
        if history.head < head.seq, let h = head.head { history.reset(seq: head.seq, hash: h) }
    }
}
