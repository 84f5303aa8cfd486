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
        /// multiple of it), so the stored snapshot lags the journal by about this many events.
        public var snapshotInterval: Int
        public var now: @Sendable () -> Date
        /// The workspace g recorded in each event (read, not advanced).
        public var currentG: @Sendable () throws -> Int
        /// The server path: when set, every signed event's signature is verified with the key of
        /// its `key_id` here (the persona registry's keys) before it is written; an event that
        /// would not verify is refused (`badSignature`) and nothing is written.
        public var verifyKeys: [String: PublicKey]?

        /// Called after each durable commit with the keys that signed its events (the file store
        /// uses it to sign a checkpoint when the commit rotated the journal). Errors are the
        /// hook's to report; the commit stands.
        public var afterCommit: (@Sendable (_ signers: [SigningKey]) async -> Void)?

        public init(snapshotInterval: Int = 64, now: @escaping @Sendable () -> Date = { Date() },
                    currentG: @escaping @Sendable () throws -> Int = { 0 },
                    afterCommit: (@Sendable (_ signers: [SigningKey]) async -> Void)? = nil,
                    verifyKeys: [String: PublicKey]? = nil) {
            self.snapshotInterval = snapshotInterval
            self.now = now
            self.currentG = currentG
            self.afterCommit = afterCommit
            self.verifyKeys = verifyKeys
        }
    }

    public let ref: JournalRef
    public let plan: PlanSpec
    let store: any JournalStore
    let options: Options
    let inner: Mutex<Inner>

    struct Inner {
        var state: StatusState
        var cursor: Int64
        var snapshotSeq: Int
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

    init(store: any JournalStore, ref: JournalRef, plan: PlanSpec, options: Options, state: StatusState, cursor: Int64, snapshotSeq: Int) {
        self.store = store
        self.ref = ref
        self.plan = plan
        self.options = options
        self.inner = Mutex(Inner(state: state, cursor: cursor, snapshotSeq: snapshotSeq))
    }

    /// Opens the status: the stored snapshot (when it is readable and consistent) plus the tail.
    public static func open(store: any JournalStore, ref: JournalRef, plan: PlanSpec, options: Options = Options()) async throws -> StatusBook {
        let (state, cursor, snapSeq, snapCursor) = try await loadState(store: store, ref: ref, plan: plan)
        let book = StatusBook(store: store, ref: ref, plan: plan, options: options, state: state, cursor: cursor, snapshotSeq: snapSeq)
        book.inner.withLock { i in
            if let snapCursor { i.anchor(snapSeq, snapCursor) }
            i.anchor(state.seq, cursor)
        }
        return book
    }

    static func loadState(store: any JournalStore, ref: JournalRef, plan: PlanSpec) async throws -> (StatusState, Int64, Int, Int64?) {
        guard try await store.journalExists(ref) else {
            throw LogbookError(.notFound, "plan \(ref.planID) has no status journal (is it locked?)", plan: ref.planID)
        }
        if let bytes = try await store.loadSnapshot(ref),
           let json = try? JSONParser.parse(bytes),
           let cursor = StatusState.snapshotCursor(json),
           var state = try? StatusState(snapshot: json, plan: plan) {
            let snapSeq = state.seq
            if let end = try? await replay(store: store, ref: ref, into: &state, from: cursor) {
                return (state, end, snapSeq, cursor)
            }
        }
        var state = StatusState(plan: plan)
        let end = try await replay(store: store, ref: ref, into: &state, from: 0)
        return (state, end, -1, nil)
    }

    /// Folds every line from `cursor` into `state`, checking each hash and rule.
    static func replay(store: any JournalStore, ref: JournalRef, into state: inout StatusState, from cursor: Int64) async throws -> Int64 {
        var end = cursor
        var s = state
        try await store.forEachLine(ref, from: cursor) { line in
            try fold(line, into: &s)
            end = line.end
        }
        state = s
        return end
    }

    static func fold(_ line: JournalLine, into state: inout StatusState) throws(LogbookError) {
        let e: Event
        do { e = try Event(line: line.bytes) } catch {
            throw LogbookError(.corrupt, "journal line after seq \(state.seq) is damaged: \(error.message); run `logbook verify`", plan: state.plan.id, seq: state.seq + 1)
        }
        guard e.computedHash == e.hash else {
            throw LogbookError(.corrupt, "journal event hash does not match its content; run `logbook verify`", plan: state.plan.id, seq: e.seq)
        }
        do { try state.apply(e) } catch {
            throw LogbookError(.corrupt, "journal event breaks a rule (\(error.description)); run `logbook verify`", plan: state.plan.id, seq: e.seq)
        }
    }

    /// The exact current state: everything durable in the journal, including other writers' events.
    public func state() async throws -> StatusState {
        let (start, cursor) = inner.withLock { ($0.state, $0.cursor) }
        var state = start
        let end = try await StatusBook.replay(store: store, ref: ref, into: &state, from: cursor)
        return inner.withLock { i in
            if state.seq > i.state.seq { i.state = state; i.cursor = end; i.anchor(state.seq, end) }
            return i.state
        }
    }

    /// The snapshot document of the current state and the cursor it reflects.
    public func snapshotBytes() async throws -> (bytes: [UInt8], seq: Int) {
        _ = try await state()
        return inner.withLock { i in (PrettyJSON.bytes(i.state.snapshot(cursor: i.cursor)), i.state.seq) }
    }

    /// Writes the snapshot now.
    public func writeSnapshot() async throws {
        let (bytes, seq) = try await snapshotBytes()
        try await store.storeSnapshot(ref, bytes, seq: seq)
        inner.withLock { $0.snapshotSeq = max($0.snapshotSeq, seq) }
    }
}
