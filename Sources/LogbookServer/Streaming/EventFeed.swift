import Foundation
import LogbookCore
import LogbookEngine
import NIOCore
import Synchronization

/// The live tail of one plan's journal, shared by every event stream of that plan in this
/// server: one change subscription, one read and one parse per event, however many clients
/// follow it.
///
/// Writers never wait for it: it follows the store's change stream (durable heads only, so a
/// stream never sends an event a crash could take back) and keeps the last ``capacity`` events
/// in memory. A stream that is behind that window reads the store itself, from its own
/// position; a stream whose client stops reading for ``stallLimit`` is closed (the client
/// resumes with `Last-Event-ID`), so a slow reader holds one connection and no one else's memory.
final class EventFeed: Sendable {
    /// What a stream gets when it asks for the events from a seq on.
    enum Window {
        /// The events from that seq on (empty: it is at the head; wait for a wake-up).
        case events(ArraySlice<EventLine>)
        /// The seq is older than the feed's window: read the store.
        case behind
        /// The feed stopped (the journal could not be read, or the server is closing).
        case closed(LogbookError?)
    }

    struct Subscriber {
        var wake: AsyncStream<Void>.Continuation
        var channel: (any Channel)?
        /// When the stream's current write began (nil: not writing).
        var writingSince: ContinuousClock.Instant?
    }

    struct State {
        var ring: [EventLine] = []
        /// The seq after the feed's last event (the head's seq + 1).
        var next: Int
        var cursor: Int64
        var subscribers: [Int: Subscriber] = [:]
        var lastID = 0
        var closed = false
        var failure: LogbookError?
    }

    let ref: JournalRef
    let capacity: Int
    let stallLimit: Duration
    /// How often streams are woken without news (keep-alives, the stall check).
    let tickInterval: Duration
    let state: Mutex<State>

    init(ref: JournalRef, head: JournalHead?, capacity: Int = 4096, stallLimit: Duration = .seconds(30), tick: Duration = .seconds(2)) {
        self.ref = ref
        self.capacity = capacity
        self.stallLimit = stallLimit
        self.tickInterval = tick
        self.state = Mutex(State(next: (head?.seq ?? -1) + 1, cursor: head?.end ?? 0))
    }

    /// Follows the journal until the task is cancelled or ``close()``: reads what each new head
    /// adds, keeps it, wakes every subscriber. Also ticks every few seconds, so streams can send
    /// their keep-alive and stalled ones are closed.
    func run(engine: LogbookEngine) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                for await head in engine.journals.changes(ref) {
                    if Task.isCancelled || isClosed { break }
                    await catchUp(engine: engine, to: head.seq)
                }
            }
            group.addTask { [self] in
                while !Task.isCancelled, !isClosed {
                    try? await Task.sleep(for: tickInterval)
                    tick()
                }
            }
            await group.next()
            close()
            group.cancelAll()
        }
    }

    var isClosed: Bool { state.withLock { $0.closed } }

    /// Reads the lines after the feed's cursor up to at least `seq`.
    func catchUp(engine: LogbookEngine, to seq: Int) async {
        var (next, cursor) = state.withLock { ($0.next, $0.cursor) }
        while next <= seq {
            let batch: [EventLine]
            do { batch = try await engine.events(ref, from: next, at: cursor, limit: 1000) } catch {
                fail((error as? LogbookError) ?? LogbookError(.io, "\(error)", plan: ref.planID))
                return
            }
            guard let last = batch.last else { break }
            next = last.seq + 1
            cursor = last.end
            let wakes = state.withLock { s -> [AsyncStream<Void>.Continuation] in
                s.ring.append(contentsOf: batch)
                if s.ring.count > capacity { s.ring.removeFirst(s.ring.count - capacity) }
                s.next = next
                s.cursor = cursor
                return s.subscribers.values.map(\.wake)
            }
            for w in wakes { w.yield() }
        }
    }

    /// The events from `seq` on, at most `max`.
    func window(from seq: Int, max: Int) -> Window {
        state.withLock { s in
            if s.closed { return .closed(s.failure) }
            guard let first = s.ring.first?.seq else { return seq >= s.next ? .events([]) : .behind }
            if seq < first { return .behind }
            if seq >= s.next { return .events([]) }
            let start = seq - first
            return .events(s.ring[start..<min(s.ring.count, start + max)])
        }
    }

    /// Registers a stream: its wake-ups (coalesced: one pending wake at most, so a slow stream
    /// costs nothing while it is slow) and the channel to close if it stalls.
    func subscribe(channel: (any Channel)?) -> (id: Int, wakes: AsyncStream<Void>) {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { s -> Int in
            s.lastID += 1
            if s.closed { continuation.finish() } else { s.subscribers[s.lastID] = Subscriber(wake: continuation, channel: channel) }
            return s.lastID
        }
        return (id, stream)
    }

    func unsubscribe(_ id: Int) {
        let sub = state.withLock { $0.subscribers.removeValue(forKey: id) }
        sub?.wake.finish()
    }

    /// Marks a stream's write as begun (`true`) or done.
    func writing(_ id: Int, _ on: Bool, at now: ContinuousClock.Instant = .now) {
        state.withLock { s in s.subscribers[id]?.writingSince = on ? now : nil }
    }

    /// Wakes every stream (keep-alives are theirs to send) and closes the connection of every
    /// stream whose write has not finished within ``stallLimit``.
    func tick(now: ContinuousClock.Instant = .now) {
        let (wakes, stalled) = state.withLock { s in
            (s.subscribers.values.map(\.wake),
             s.subscribers.values.filter { $0.writingSince.map { $0.duration(to: now) > stallLimit } ?? false }.compactMap(\.channel))
        }
        for w in wakes { w.yield() }
        for c in stalled { c.close(promise: nil) }
    }

    func fail(_ error: LogbookError) {
        let wakes = state.withLock { s -> [AsyncStream<Void>.Continuation] in
            s.failure = error
            s.closed = true
            return s.subscribers.values.map(\.wake)
        }
        for w in wakes { w.finish() }
    }

    /// Ends every stream (graceful shutdown): each sends its last id and closes. The ticks stop
    /// with the feed, so one last check closes a stream still stuck in a write after the stall
    /// limit: a client that stopped reading cannot hold the shutdown.
    func close() {
        let (wakes, first) = state.withLock { s -> ([AsyncStream<Void>.Continuation], Bool) in
            defer { s.closed = true }
            return (s.subscribers.values.map(\.wake), !s.closed)
        }
        for w in wakes { w.finish() }
        guard first, !wakes.isEmpty else { return }
        let limit = stallLimit
        Task { [self] in
            try? await Task.sleep(for: limit + .milliseconds(100))
            tick()
        }
    }
}

/// One ``EventFeed`` per plan, started on the first stream of that plan and kept while the server runs.
final class EventFeeds: Sendable {
    let feeds = Mutex<[JournalRef: (feed: EventFeed, task: Task<Void, Never>)]>([:])
    let closed = Atomic<Bool>(false)
    let stallLimit: Duration
    let keepAlive: Duration

    init(stallLimit: Duration, keepAlive: Duration) {
        self.stallLimit = stallLimit
        self.keepAlive = keepAlive
    }

    func feed(_ ref: JournalRef, engine: LogbookEngine) async throws -> EventFeed {
        if let f = feeds.withLock({ $0[ref]?.feed }) { return f }
        let head = try await engine.journals.head(ref)
        let made = EventFeed(ref: ref, head: head, stallLimit: stallLimit, tick: min(.seconds(2), stallLimit / 2, keepAlive / 2))
        return feeds.withLock { d -> EventFeed in
            if let f = d[ref]?.feed { return f }
            let task = Task { await made.run(engine: engine) }
            d[ref] = (made, task)
            if closed.load(ordering: .acquiring) { made.close() }
            return made
        }
    }

    /// Ends every stream of every plan.
    func closeAll() {
        closed.store(true, ordering: .releasing)
        let all = feeds.withLock { d in d.values.map { $0 } }
        for (f, t) in all {
            f.close()
            t.cancel()
        }
    }
}
