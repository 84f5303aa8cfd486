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
        let mark: CheckMark
        let persona: String
        var deferred: [Deferred] = []
        /// Signatures checked one by one (a line the mark does not cover, or a mark that did
        /// not hold).
        var checked = 0

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
        func covers(_ seq: Int) -> Bool { seq <= mark.seq }

        /// After the line at `seq` with chain hash `hash` was folded into `state`.
        mutating func folded(seq: Int, hash: Digest256, state: StatusState, plan: String) throws(LogbookError) {
            guard seq == mark.seq else { return }
            if hash == mark.hash, state.personas[persona]?.keyID == mark.keyID {
                deferred = []
            } else {
                try finish(plan: plan)
            }
        }

        /// Checks every signature still waiting.
        mutating func finish(plan: String) throws(LogbookError) {
            let waiting = deferred
            deferred = []
            for d in waiting {
                checked += 1
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

    /// Signatures this book has checked (journal lines and check marks), for tests and metrics.
    public var signaturesChecked: Int { inner.withLock { $0.signaturesChecked } }
}
