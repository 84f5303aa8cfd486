/// What a writer knows of the journal's recent past, to check a statement's `seen` reference
/// and to find an earlier append of the same statement: for a contiguous run of events ending
/// at the head, each event's hash and its statement's digest (SHA-256 of the `stmt` bytes).
///
/// Only events after a statement's `seen.seq` can be an earlier append of it (it was signed
/// when the head was `seen`), so a repeat is found by a scan of the events after `seen.seq`,
/// never by an index of every statement.
public struct StatementHistory: Sendable, Equatable {
    /// The seq whose hash is ``baseHash``; the entries are the events after it.
    public private(set) var base: Int
    public private(set) var baseHash: Digest256
    var hashes: [Digest256] = []
    var statements: [Digest256] = []

    /// A history that knows only the event at `seq` (its hash), e.g. a state's head; seq -1
    /// with the plan digest before the genesis.
    public init(seq: Int, hash: Digest256) {
        base = seq
        baseHash = hash
    }

    /// The seq of the last event known.
    public var head: Int { base + hashes.count }

    /// The hash of the event at `seq`, if known here.
    public func hash(at seq: Int) -> Digest256? {
        if seq == base { return baseHash }
        guard seq > base, seq <= head else { return nil }
        return hashes[seq - base - 1]
    }

    /// Whether the events after `seq` are all known here (so a repeat among them would be found).
    public func covers(after seq: Int) -> Bool { seq >= base && seq <= head }

    /// The first seq after `seq` whose statement has `digest`, if any is known.
    public func firstSeq(of digest: Digest256, after seq: Int) -> Int? {
        let from = max(seq, base) - base
        guard from < statements.count else { return nil }
        for k in from..<statements.count where statements[k] == digest { return base + 1 + k }
        return nil
    }

    /// Adds the event after the head.
    public mutating func append(seq: Int, hash: Digest256, statement: Digest256) {
        precondition(seq == head + 1, "the history is contiguous")
        hashes.append(hash)
        statements.append(statement)
    }

    /// Forgets the events after `seq` (a commit that was not acknowledged).
    public mutating func truncate(after seq: Int) {
        guard seq < head, seq >= base else { return }
        hashes.removeLast(head - seq)
        statements.removeLast(statements.count - hashes.count)
    }

    /// Keeps at most about `limit` events (the newest), dropping the older half when over.
    public mutating func trim(to limit: Int) {
        guard hashes.count > limit else { return }
        let drop = hashes.count - limit / 2
        base += drop
        baseHash = hashes[drop - 1]
        hashes.removeFirst(drop)
        statements.removeFirst(drop)
    }

    /// Puts `older` (which ends where this history starts, at the same hash) before this one.
    public mutating func prepend(_ older: StatementHistory) {
        guard older.head == base, older.hash(at: base) == baseHash else { return }
        var h = older
        h.hashes.append(contentsOf: hashes)
        h.statements.append(contentsOf: statements)
        self = h
    }

    /// Starts over at `seq` (the book reloaded from a snapshot or replayed elsewhere).
    public mutating func reset(seq: Int, hash: Digest256) {
        self = StatementHistory(seq: seq, hash: hash)
    }
}
