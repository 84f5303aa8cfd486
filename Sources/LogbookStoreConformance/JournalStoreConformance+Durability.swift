import LogbookCore
import Synchronization

/// Durable lines only: a line is visible exactly when its sync succeeded, never before, never
/// after a failed one.
extension JournalStoreConformance {
    /// A journal of 3 lines on a gated store, and the writer that wrote them.
    static func gated(_ backend: Backend, _ c: String) async throws -> (any JournalStore, SyncGate, RawJournal.Writer) {
        guard let makeGated = backend.makeGated else { throw ConformanceFailure(check: c, "\(backend) cannot hold a sync") }
        let gate = SyncGate()
        let store = try await makeGated(gate)
        try await store.createJournal(RawJournal.ref, genesis: RawJournal.genesis)
        var w = RawJournal.Writer("before")
        try await w.append(store, count: 2)
        return (store, gate, w)
    }

    /// Readers racing a held sync: what completes while it is held shows nothing of the line;
    /// what completes after it succeeded shows it, and the head is where the append said.
    static func durableReadsOnly(_ backend: Backend) async throws {
        let c = Check.durableReadsOnly.rawValue
        let (store, gate, w) = try await gated(backend, c)
        let before = try await RawJournal.all(store).map(\.bytes)
        let released = Flag()
        gate.arm()
        let writer = Task { () throws -> RawJournal.Writer in
            var w2 = w
            w2.tag = "held"
            try await w2.append(store)
            return w2
        }
        await gate.reached()
        let readers = (0..<3).map { _ in
            Task { () throws -> (lines: [[UInt8]], head: JournalHead?, afterRelease: Bool) in
                let lines = try await RawJournal.all(store).map(\.bytes)
                let head = try await store.head(RawJournal.ref)
                return (lines, head, released.value)
            }
        }
        for _ in 0..<50 { await Task.yield() }
        released.set()
        gate.release(succeed: true)
        let done = try await writer.value
        for r in readers {
            let seen = try await r.value
            if !seen.afterRelease {
                try await require(seen.lines == before, c, "a read that completed while the sync was held saw \(seen.lines.count) lines, not the \(before.count) durable ones")
            } else {
                try await require(seen.lines == before || seen.lines.count == before.count + 1, c, "a read saw \(seen.lines.count) lines")
            }
        }
        let after = try await RawJournal.all(store)
        try await require(after.count == before.count + 1 && after.last?.end == done.cursor, c, "after the sync succeeded the line is not the last one, ending where the append said")
        try await require(try await store.head(RawJournal.ref)?.end == done.cursor, c, "the head is not where the append ended")
    }

    /// A sync that fails: the append throws `.indeterminate`, and the line is never read, by a
    /// reader racing the sync or by anyone later; the next append takes the same seq.
    static func failedSyncIsNeverSeen(_ backend: Backend) async throws {
        let c = Check.failedSyncIsNeverSeen.rawValue
        let (store, gate, w) = try await gated(backend, c)
        let before = try await RawJournal.all(store).map(\.bytes)
        let headBefore = try await store.head(RawJournal.ref)
        gate.arm()
        let writer = Task { () -> Result<RawJournal.Writer, any Error> in
            var w2 = w
            w2.tag = "lost"
            do { try await w2.append(store); return .success(w2) } catch { return .failure(error) }
        }
        await gate.reached()
        let reader = Task { try await RawJournal.all(store).map(\.bytes) }
        let header = Task { try await store.head(RawJournal.ref) }
        for _ in 0..<50 { await Task.yield() }
        gate.release(succeed: false)
        switch await writer.value {
        case .success: throw ConformanceFailure(check: c, "an append whose sync failed was acknowledged")
        case .failure(let e):
            try await require((e as? LogbookError)?.code == .indeterminate, c, "a failed sync threw \(e), not an indeterminate LogbookError")
        }
        try await require(try await reader.value == before, c, "a reader racing the failed sync saw the line")
        try await require(try await header.value == headBefore, c, "the head moved to a line whose sync failed")
        try await require(try await RawJournal.all(store).map(\.bytes) == before, c, "after the failed sync the journal shows the line")
        try await require(try await store.head(RawJournal.ref) == headBefore, c, "after the failed sync the head is not the last durable line")
        var next = w
        next.tag = "next"
        try await next.append(store)
        let lines = try await RawJournal.all(store)
        try await require(lines.count == before.count + 1 && next.lastSeq == w.lastSeq + 1, c, "the next append did not take the failed line's seq")
        try await require(!lines.contains { String(decoding: $0.bytes, as: UTF8.self).contains(#""writer":"lost""#) }, c, "the failed line came back")
    }
}

/// A flag tasks can share.
final class Flag: Sendable {
    let state = Atomic<Bool>(false)
    var value: Bool { state.load(ordering: .sequentiallyConsistent) }
    func set() { state.store(true, ordering: .sequentiallyConsistent) }
}
