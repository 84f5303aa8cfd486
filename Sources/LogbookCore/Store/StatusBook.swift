import Foundation
import Synchronization

/// The writer and exact reader of one plan's status, over any ``JournalStore``.
///
/// Appends from many tasks in one process are batched: one caller at a time leads a commit that
/// takes the store's exclusion once, checks and signs every waiting request against the exact
/// state, writes them together and waits for one durable sync (group commit). Across processes
/// the store's exclusion serialises the batches and each batch first folds in what others wrote.
///
/// ```swift
/// let book = try await StatusBook.open(store: store, ref: ref, plan: spec, options: .init())
/// let e = try await book.submit(EventRequest(type: .started, task: "T1", persona: "DEV"), signer: key)
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
        /// The server path: when set, every signed event's signature is verified with the key of
        /// its `key_id` here (the persona registry's keys) before it is written; an event that
        /// would not verify is refused (`badSignature`) and nothing is written.
        public var verifyKeys: [String: PublicKey]?
        /// Keys (by key id) to check the signature of every journal line this book folds but did
        /// not write itself: lines other processes appended, the tail after a snapshot, a full
        /// replay. A line whose signature does not verify stops the read (`.corrupt`, its seq),
        /// so a line forged by someone without the key is never built on. Nil: not checked here
        /// (`verify` checks every line).
        public var lineKeys: [String: PublicKey]?

        /// Called after each durable commit with the keys that signed its events (the file store
        /// uses it to sign a checkpoint when the commit rotated the journal). Errors are the
        /// hook's to report; the commit stands.
        public var afterCommit: (@Sendable (_ signers: [SigningKey]) async -> Void)?

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

        mutating func anchor(_ seq: Int, _ end: Int64) {
            guard seq >= 0 else { return }
            if let last = anchors.last, last.seq >= seq { return }
            if anchors.count >= StatusBook.anchorLimit { anchors.removeFirst(anchors.count / 2) }
            anchors.append((seq, end))
        }
    }

    static let anchorLimit = 256

    init(store: any JournalStore, ref: JournalRef, plan: PlanSpec, genesis: Event, options: Options, state: StatusState, cursor: Int64, snapshotSeq: Int) {
        self.store = store
        self.ref = ref
        self.plan = plan
        self.genesis = genesis
        self.options = options
        self.inner = Mutex(Inner(state: state, cursor: cursor, snapshotSeq: snapshotSeq))
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
    /// `keys` each signature.
    static func replay(store: any JournalStore, ref: JournalRef, into state: inout StatusState, from cursor: Int64,
                       keys: [String: PublicKey]?) async throws -> Int64 {
        var end = cursor
        var s = state
        try await store.forEachLine(ref, from: cursor) { line in
            try fold(line, into: &s, keys: keys)
            end = line.end
        }
        state = s
        return end
    }

    /// Folds one line another writer appended (or a replayed one): parsed, hash checked, with
    /// `keys` its signature checked (the rules have already required the key id the genesis
    /// trusts for its persona; this proves the signature is that key's), then every rule.
    static func fold(_ line: JournalLine, into state: inout StatusState, keys: [String: PublicKey]? = nil) throws(LogbookError) {
        let e: Event
        do { e = try Event(line: line.bytes) } catch {
            throw LogbookError(.corrupt, "journal line after seq \(state.seq) is damaged: \(error.message); run `logbook verify`", plan: state.plan.id, seq: state.seq + 1)
        }
        guard e.computedHash == e.hash else {
            throw LogbookError(.corrupt, "journal event hash does not match its content; run `logbook verify`", plan: state.plan.id, seq: e.seq)
        }
        if let keys, let sig = e.sig {
            guard let kid = e.keyID, let pk = keys[kid], pk.persona == e.persona, pk.isValid(signature: sig, for: e.hash) else {
                throw LogbookError(.corrupt, "journal event signature does not verify with \(e.persona)'s key \(e.keyID ?? "(none)") in personas.json; nothing was written (run `logbook verify`)",
                                   plan: state.plan.id, task: e.task, seq: e.seq, rule: "signature")
            }
        }
        do { try state.apply(e) } catch {
            throw LogbookError(.corrupt, "journal event breaks a rule (\(error.description)); run `logbook verify`", plan: state.plan.id, seq: e.seq)
        }
    }

    /// The exact current state: everything durable in the journal, including other writers' events.
    public func state() async throws -> StatusState {
        let (start, cursor) = inner.withLock { ($0.state, $0.cursor) }
        var state = start
        let end = try await StatusBook.replay(store: store, ref: ref, into: &state, from: cursor, keys: options.lineKeys)
        return inner.withLock { i in
            if state.seq > i.state.seq { i.state = state; i.cursor = end; i.anchor(state.seq, end) }
            return i.state
        }
    }

    /// The snapshot document of the current state and the cursor it reflects (unsealed).
    public func snapshotBytes() async throws -> (bytes: [UInt8], seq: Int) {
        _ = try await state()
        return inner.withLock { i in (PrettyJSON.bytes(i.state.snapshot(cursor: i.cursor)), i.state.seq) }
    }

    /// Writes the snapshot of the current state now, durably; sealed with `sealer` when the
    /// genesis records its key for its persona (else unsealed: readers replay it from seq 0
    /// until a writer seals one).
    ///
    /// - Throws: the store's error naming the file; the journal is unaffected.
    public func writeSnapshot(sealedBy sealer: SigningKey? = nil) async throws {
        _ = try await state()
        let (doc, seq) = inner.withLock { i in (i.state.snapshot(cursor: i.cursor), i.state.seq) }
        try await store.storeSnapshot(ref, sealedBytes(doc, sealer: sealer.flatMap { trusts($0) ? $0 : nil }), seq: seq, SnapshotWrite(durable: true))
        noteStored(seq: seq, sealed: sealer.map(trusts) ?? false)
    }
}
