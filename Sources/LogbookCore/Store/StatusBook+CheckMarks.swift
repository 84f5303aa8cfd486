import Synchronization

/// Check marks in the book (``CheckMark``, docs/FORMAT.md §4b): a writer signs one for the head
/// after each batch it appends, and a book catching up on lines other processes wrote checks the
/// mark's signature once instead of every line's.
extension StatusBook {
    /// The lines a verified mark may cover while a run of lines is folded: their signature
    /// checks wait here until the fold reaches the mark's seq. There, if the line's chain hash is
    /// the mark's (each line's hash recomputed, each `prev` linked, as always) and the signer's
    /// key is still the one the plan trusts for it, they are proven and dropped; else they are
    /// all checked then, and a run that ends before the mark's seq checks them at its end
    /// (``finish()``). Either way no line is kept unchecked.
    struct MarkCover {
        /// Nil: a cover that defers every line's check (the commit's fold before the lock, which
        /// the mark found under the lock settles).
        let mark: CheckMark?
        let persona: String
        var deferred: [Deferred] = []

        struct Deferred {
            var seq: Int
            var task: String?
            var persona: String
            var keyID: String?
            var key: PublicKey
            var message: [UInt8]
            var sig: [UInt8]
        }

        /// Whether the signature of the line at `seq` may wait for the mark.
        func covers(_ seq: Int) -> Bool { mark.map { seq <= $0.seq } ?? true }

        /// Defers every check until ``finish(plan:checks:)`` (or until a mark settles them).
        static var deferAll: MarkCover { MarkCover(mark: nil, persona: "") }

        /// After the line at `seq` with chain hash `hash` was folded into `state`.
        mutating func folded(seq: Int, hash: Digest256, state: StatusState, plan: String, checks: inout Int) throws(LogbookError) {
            guard let mark, seq == mark.seq else { return }
            if hash == mark.hash, state.personas[persona]?.keyID == mark.keyID {
                deferred = []
            } else {
                try finish(plan: plan, checks: &checks)
            }
        }

        /// Checks every signature still waiting, counting them in `checks`.
        mutating func finish(plan: String, checks: inout Int) throws(LogbookError) {
            let waiting = deferred
            deferred = []
            for d in waiting {
                checks += 1
                guard d.key.isValid(signature: d.sig, message: d.message) else {
                    throw StatusBook.signatureError(plan: plan, task: d.task, seq: d.seq, persona: d.persona, keyID: d.keyID)
                }
            }
        }
    }

    /// The refusal for a line whose signature does not verify.
    static func signatureError(plan: String, task: String?, seq: Int, persona: String, keyID: String?) -> LogbookError {
        LogbookError(.corrupt, "journal event signature does not verify with \(persona)'s key \(keyID ?? "(none)") (the journal's or personas.json's); nothing was written (run `logbook verify`)",
                     plan: plan, task: task, seq: seq, rule: "signature")
    }

    /// The mark in `bytes` if it is worth using for lines after `state`'s head and verifies with
    /// the key the journal records (never personas.json's) for a persona the plan trusts that
    /// key for now. `verified` is the last mark this book verified (its bytes), checked again
    /// for free.
    static func acceptedMark(_ bytes: [UInt8]?, ref: JournalRef, state: StatusState, trusted: TrustedKeys,
                             verified: [UInt8]?, checks: inout Int) -> MarkCover? {
        guard let bytes, let mark = CheckMark(bytes: bytes), mark.seq > state.seq,
              let key = trusted[mark.keyID], state.personas[key.persona]?.keyID == mark.keyID else { return nil }
        if bytes != verified {
            checks += 1
            guard mark.isSigned(for: ref, by: key) else { return nil }
        }
        return MarkCover(mark: mark, persona: key.persona)
    }

    /// A mark for the head of `state`, signed by the first of `signers` whose key the plan
    /// trusts for its persona there; nil when lines are not checked here (then this book
    /// vouches for nothing) or no signer qualifies.
    func newMark(for state: StatusState, signers: [SigningKey]) -> CheckMark? {
        guard options.lineKeys != nil, let head = state.head,
              let key = signers.first(where: { state.personas[$0.persona]?.keyID == $0.publicKey.keyID }) else { return nil }
        return CheckMark(ref, seq: state.seq, hash: head, signedBy: key)
    }

    /// What the commit folded before taking the store's exclusion, not yet kept: the state and
    /// keys after the lines from `base` to `cursor`, their history entries, and their
    /// signature checks, deferred. Under the exclusion the newest mark settles the checks (one
    /// signature for all of them) and the fold is kept; if no mark reaches them they are checked
    /// there one by one.
    struct Prefold {
        var base: Int64
        var cursor: Int64
        var state: StatusState
        var keys: TrustedKeys
        var folded: [Folded]
        var deferred: [MarkCover.Deferred]
    }

    /// Folds the lines other processes appended since this book's cursor, outside the store's
    /// exclusion, with every signature check deferred (see ``Prefold``). Nil when there is
    /// nothing new, or a line is damaged (the locked path reports it).
    func prefold() async -> Prefold? {
        let (start, cursor, known) = inner.withLock { ($0.state, $0.cursor, $0.keys) }
        var s = start
        var t = known
        var out: [Folded] = []
        var end = cursor
        var cover: MarkCover? = options.lineKeys == nil ? nil : .deferAll
        var n = 0
        do {
            while true {
                let lines = try await store.read(ref, from: end, limit: 1 << 20)
                guard !lines.isEmpty else { break }
                for line in lines {
                    out.append(try StatusBook.fold(line, into: &s, keys: options.lineKeys, trusted: &t, cover: &cover, checks: &n))
                    end = line.end
                }
            }
        } catch {
            return nil
        }
        guard end > cursor else { return nil }
        return Prefold(base: cursor, cursor: end, state: s, keys: t, folded: out, deferred: cover?.deferred ?? [])
    }

    /// The catch-up under the store's exclusion: folds `newer` (the lines the store read after
    /// the commit's `from`) onto this book's state, or onto `pre` when it continues from here,
    /// settling every deferred and new signature check with the newest check mark `markBytes`
    /// where it covers them and one by one where it does not. The result replaces the book's
    /// state only once all of it is proven; a line that fails throws with nothing kept.
    ///
    /// - Returns: whether it folded lines (which other processes wrote).
    func catchUpLocked(_ i: inout Inner, newer: [JournalLine], markBytes: [UInt8]?, pre: Prefold?) throws(LogbookError) -> Bool {
        var checks = 0
        defer { i.signaturesChecked += checks }
        var folding = i.state, keys = i.keys, at = i.cursor
        var folded: [Folded] = []
        var waiting: [MarkCover.Deferred] = []
        // The fold before the lock started at this book's cursor then; a reader may have moved
        // the cursor since, to at most the end of the lines that fold read (the same lines).
        if let pre, pre.base <= i.cursor, i.cursor <= pre.cursor {
            (folding, keys, at, folded, waiting) = (pre.state, pre.keys, pre.cursor, pre.folded, pre.deferred)
        }
        var cover: MarkCover?
        if options.lineKeys != nil, !waiting.isEmpty || newer.contains(where: { $0.end > at }) {
            // The mark is judged by what this book has proven (its state and keys).
            cover = StatusBook.acceptedMark(markBytes, ref: ref, state: i.state, trusted: i.keys, verified: i.verifiedMark, checks: &checks)
            if cover != nil { i.verifiedMark = markBytes }
        }
        if var c = cover, let mark = c.mark, mark.seq >= folding.seq {
            c.deferred = waiting
            if mark.seq == folding.seq, let head = folding.head {
                try c.folded(seq: folding.seq, hash: head, state: folding, plan: plan.id, checks: &checks)
            }
            cover = c
        } else if !waiting.isEmpty {
            var c = MarkCover.deferAll
            c.deferred = waiting
            try c.finish(plan: plan.id, checks: &checks)
            cover = nil
        }
        for line in newer where line.end > at {
            folded.append(try StatusBook.fold(line, into: &folding, keys: options.lineKeys, trusted: &keys, cover: &cover, checks: &checks))
            at = line.end
        }
        try cover?.finish(plan: plan.id, checks: &checks)
        guard at != i.cursor else { return false }
        i.state = folding
        i.keys = keys
        i.cursor = at
        i.absorb(folded, head: folding)
        return true
    }

    /// Signatures this book has checked (journal lines and check marks), for tests and metrics.
    public var signaturesChecked: Int { inner.withLock { $0.signaturesChecked } }
}
