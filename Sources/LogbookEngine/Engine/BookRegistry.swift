import LogbookCore
import Synchronization

/// One ``StatusBook`` per plan per process, so every caller in a process shares one group
/// commit and one cached state; and the names callers used for each open book (a plan id,
/// `exec_plan_<g>`, g), so that naming an open plan again needs no plan file read.
final class BookRegistry: Sendable {
    private struct Books {
        var byRef: [JournalRef: StatusBook] = [:]
        var byName: [String: JournalRef] = [:]
    }
    private let books = Mutex(Books())

    /// The book of `ref`, opening it with `open` when there is none yet. Two callers that open
    /// at once both open; the first to finish is kept and both get it.
    func book(_ ref: JournalRef, open: () async throws -> StatusBook) async throws -> StatusBook {
        if let b = books.withLock({ $0.byRef[ref] }) { return b }
        let opened = try await open()
        return books.withLock { d in
            if let b = d.byRef[ref] { return b }
            d.byRef[ref] = opened
            return opened
        }
    }

    /// The open book a caller reached under `name` before (nil when none is open for it).
    func book(named name: String) -> StatusBook? {
        books.withLock { d in d.byName[name].flatMap { d.byRef[$0] } }
    }

    /// Remembers that `name` selects the open book of `ref`.
    func name(_ name: String, _ ref: JournalRef) {
        books.withLock { d in if d.byRef[ref] != nil { d.byName[name] = ref } }
    }

    /// Forgets the book of `ref` (after archive, or when its plan changed under it), and every
    /// name that selected it.
    func forget(_ ref: JournalRef) {
        books.withLock { d in
            d.byRef.removeValue(forKey: ref)
            d.byName = d.byName.filter { $0.value != ref }
        }
    }
}
