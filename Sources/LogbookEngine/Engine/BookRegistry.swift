import LogbookCore
import Synchronization

/// One ``StatusBook`` per plan per process, so every caller in a process shares one group
/// commit and one cached state.
final class BookRegistry: Sendable {
    private let books = Mutex<[JournalRef: StatusBook]>([:])

    /// The book of `ref`, opening it with `open` when there is none yet. Two callers that open
    /// at once both open; the first to finish is kept and both get it.
    func book(_ ref: JournalRef, open: () async throws -> StatusBook) async throws -> StatusBook {
        if let b = books.withLock({ $0[ref] }) { return b }
        let opened = try await open()
        return books.withLock { d in
            if let b = d[ref] { return b }
            d[ref] = opened
            return opened
        }
    }

    /// Forgets the book of `ref` (after archive, or when its plan changed under it).
    func forget(_ ref: JournalRef) {
        _ = books.withLock { $0.removeValue(forKey: ref) }
    }
}
