import LogbookCore

/// A journal store that passes every call to `inner`: a test store conforms to it and
/// implements only the calls it changes (counting reads, failing snapshot writes, …).
public protocol ForwardingJournalStore: JournalStore {
    var inner: any JournalStore { get }
}

extension ForwardingJournalStore {
    public func createJournal(_ ref: JournalRef, genesis: [UInt8]) async throws { try await inner.createJournal(ref, genesis: genesis) }
    public func journalExists(_ ref: JournalRef) async throws -> Bool { try await inner.journalExists(ref) }
    public func read(_ ref: JournalRef, from cursor: Int64, limit: Int) async throws -> [JournalLine] {
        try await inner.read(ref, from: cursor, limit: limit)
    }
    public func append(_ ref: JournalRef, from cursor: Int64,
                       _ build: @escaping @Sendable ([JournalLine]) throws -> [[UInt8]]) async throws -> Int64 {
        try await inner.append(ref, from: cursor, build)
    }
    public func append(_ ref: JournalRef, from cursor: Int64,
                       marking build: @escaping @Sendable ([JournalLine], [UInt8]?) throws -> MarkedLines) async throws -> Int64 {
        try await inner.append(ref, from: cursor, marking: build)
    }
    public func loadCheckMark(_ ref: JournalRef) async throws -> [UInt8]? { try await inner.loadCheckMark(ref) }
    public func readWithCheckMark(_ ref: JournalRef, from cursor: Int64, limit: Int) async throws -> (lines: [JournalLine], checkMark: [UInt8]?) {
        try await inner.readWithCheckMark(ref, from: cursor, limit: limit)
    }
    public func head(_ ref: JournalRef) async throws -> JournalHead? { try await inner.head(ref) }
    public func changes(_ ref: JournalRef) -> AsyncStream<JournalHead> { inner.changes(ref) }
    @discardableResult
    public func seal(_ ref: JournalRef) async throws -> SealedJournal { try await inner.seal(ref) }
    public func isSealed(_ ref: JournalRef) async throws -> Bool { try await inner.isSealed(ref) }
    public func findings(_ ref: JournalRef) async throws -> [StoreFinding] { try await inner.findings(ref) }
    public func loadSnapshot(_ ref: JournalRef) async throws -> [UInt8]? { try await inner.loadSnapshot(ref) }
    public func storeSnapshot(_ ref: JournalRef, _ bytes: [UInt8], seq: Int) async throws {
        try await inner.storeSnapshot(ref, bytes, seq: seq)
    }
    public func storeSnapshot(_ ref: JournalRef, _ bytes: [UInt8], seq: Int, _ write: SnapshotWrite) async throws {
        try await inner.storeSnapshot(ref, bytes, seq: seq, write)
    }
    public func line(atSeq seq: Int, hint: Int64?, _ ref: JournalRef) async throws -> JournalLine? {
        try await inner.line(atSeq: seq, hint: hint, ref)
    }
}
