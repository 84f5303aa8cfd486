import LogbookCore
import Synchronization

/// Synthetic journal lines for the store-level checks: a JSON object with top-level `seq` and
/// `hash` (all a store may look at) and a writer tag, so lost or duplicated lines are visible.
enum RawJournal {
    static let ref = JournalRef(planID: "EP-CONFORMANCE", g: 7)

    static func line(seq: Int, tag: String) -> [UInt8] {
        Array(#"{"hash":"sha256:\#(hash(seq, tag))","seq":\#(seq),"writer":"\#(tag)"}"#.utf8) + [0x0A]
    }

    /// A stand-in chain hash (a real SHA-256, of seq and writer): distinct per line.
    static func hash(_ seq: Int, _ tag: String) -> String {
        Digest256.of(Array("\(seq)/\(tag)".utf8)).hex
    }

    static var genesis: [UInt8] { line(seq: 0, tag: "genesis") }

    /// One writer's view: where it read up to and the last seq it saw.
    struct Writer {
        var tag: String
        var cursor: Int64 = 0
        var lastSeq = -1

        init(_ tag: String) { self.tag = tag }

        /// Appends `count` lines continuing the seqs it finds, under the store's exclusion.
        mutating func append(_ store: any JournalStore, _ ref: JournalRef = RawJournal.ref, count: Int = 1) async throws {
            let last = lastSeq, tag = tag
            let took = Mutex(last)
            let end = try await store.append(ref, from: cursor) { newer in
                var s = last
                for l in newer { if let n = JournalHead.seq(l.bytes) { s = n } }
                took.withLock { $0 = s + count }
                return (1...max(1, count)).prefix(count).map { RawJournal.line(seq: s + $0, tag: tag) }
            }
            cursor = end
            lastSeq = took.withLock { $0 }
        }
    }

    /// Every line of the journal, read in pages of `limit` bytes.
    static func all(_ store: any JournalStore, _ ref: JournalRef = RawJournal.ref, limit: Int = 1 << 20) async throws -> [JournalLine] {
        var out: [JournalLine] = []
        try await store.forEachLine(ref, batchBytes: limit) { out.append($0) }
        return out
    }

    /// A store with a journal holding the genesis and `lines` more lines by one writer.
    static func filled(_ backend: JournalStoreConformance.Backend, lines: Int) async throws -> (any JournalStore, Writer) {
        let store = try await backend.make()
        try await store.createJournal(ref, genesis: genesis)
        var w = Writer("w")
        for _ in 0..<lines { try await w.append(store) }
        return (store, w)
    }
}
