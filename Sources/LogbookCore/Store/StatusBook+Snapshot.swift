import Foundation

/// The snapshot as an authenticated cache (docs/FORMAT.md, "Snapshot trust and freshness"): a
/// book starts from a stored snapshot only when it can prove it, else it replays from seq 0.
extension StatusBook {
    /// What a book found in the stored snapshot when it opened.
    enum StoredSnapshot {
        /// Sealed by a key the genesis trusts and bound to the journal: the book started from it.
        case trusted
        /// Missing (nil bytes), damaged, unsealed, forged or not bound to the journal: the book
        /// replayed from seq 0. `why` says which (for tests and logs).
        case untrusted(bytes: [UInt8]?, why: String)
    }

    struct Loaded {
        var genesis: Event
        var state: StatusState
        var cursor: Int64
        /// The trusted snapshot's seq, or -1.
        var snapshotSeq: Int
        var snapshotCursor: Int64?
        var snapshot: StoredSnapshot
    }

    static func loadState(store: any JournalStore, ref: JournalRef, plan: PlanSpec, keys: [String: PublicKey]? = nil,
                          genesis known: Event? = nil) async throws -> Loaded {
        let genesis: Event
        if let known {
            genesis = known  // the caller read it from the journal a moment ago
        } else {
            guard try await store.journalExists(ref) else {
                throw LogbookError(.notFound, "plan \(ref.planID) has no status journal (is it locked?)", plan: ref.planID)
            }
            genesis = try await readGenesis(store: store, ref: ref, plan: plan)
        }
        let bytes = try await store.loadSnapshot(ref)
        let why: String
        switch await provedSnapshot(bytes, store: store, ref: ref, plan: plan, genesis: genesis) {
        case .success(let (state, cursor)):
            var s = state
            // The tail with the keys the genesis records: a check mark by one of them (for a
            // persona the snapshot's state trusts it for) covers the tail with one signature.
            if let end = try? await replay(store: store, ref: ref, into: &s, from: cursor, keys: keys, trusting: TrustedKeys(genesis: genesis)) {
                return Loaded(genesis: genesis, state: s, cursor: end, snapshotSeq: state.seq, snapshotCursor: cursor, snapshot: .trusted)
            }
            why = "the journal after its seq does not follow from it"
        case .failure(let reason):
            why = reason.message
        }
        var state = StatusState(plan: plan)
        let end = try await replay(store: store, ref: ref, into: &state, from: 0, keys: keys)
        return Loaded(genesis: genesis, state: state, cursor: end, snapshotSeq: -1, snapshotCursor: nil,
                      snapshot: .untrusted(bytes: bytes, why: why))
    }

    /// The journal's first line, checked to be a well-formed genesis of this plan whose hash
    /// matches its content. Only the first line is read.
    public static func readGenesis(store: any JournalStore, ref: JournalRef, plan: PlanSpec) async throws -> Event {
        guard let first = try await store.read(ref, from: 0, limit: 1).first else {
            throw LogbookError(.corrupt, "the status journal of \(ref.planID) is empty (no genesis); run `logbook verify`", plan: ref.planID, seq: 0)
        }
        let e: Event
        do { e = try Event(line: first.bytes) } catch {
            throw LogbookError(.corrupt, "the genesis (seq 0) is damaged: \(error.message); run `logbook verify`", plan: ref.planID, seq: 0)
        }
        guard e.seq == 0, e.type.isGenesis, e.computedHash == e.hash, e.plan == plan.id else {
            throw LogbookError(.corrupt, "the first journal line is not this plan's genesis (seq 0, created or migrated, hash matching its content); run `logbook verify`", plan: ref.planID, seq: 0)
        }
        return e
    }

    struct Unproved: Error { var message: String }

    /// The state a stored snapshot records and the position after its seq's line, if the
    /// snapshot is proved: its seal verifies with a key the genesis trusts, and the journal's
    /// line at its seq (found by the store: ``JournalStore/line(atSeq:hint:_:)``) is the event
    /// with its head hash, whose hash matches its content. The snapshot records no position, so
    /// there is nothing in it to trust but seq and hash: a store that cannot find the line
    /// cheaply, or finds another, means "not proved" and a replay from seq 0.
    static func provedSnapshot(_ bytes: [UInt8]?, store: any JournalStore, ref: JournalRef, plan: PlanSpec,
                               genesis: Event) async -> Result<(StatusState, Int64), Unproved> {
        guard let bytes else { return .failure(Unproved(message: "there is none")) }
        guard let json = try? JSONParser.parse(bytes) else { return .failure(Unproved(message: "it is not JSON")) }
        if let problem = SnapshotSeal.problem(json, genesis: genesis) { return .failure(Unproved(message: problem)) }
        let state: StatusState
        do { state = try StatusState(snapshot: SnapshotSeal.unsealed(json), plan: plan) } catch {
            return .failure(Unproved(message: error.message))
        }
        guard state.planDigest == genesis.prev else { return .failure(Unproved(message: "its plan digest is not the genesis'")) }
        guard let line = try? await store.line(atSeq: state.seq, hint: nil, ref),
              let e = try? Event(line: line.bytes) else {
            return .failure(Unproved(message: "the store has no journal line at its seq \(state.seq) (or cannot find it cheaply)"))
        }
        guard e.seq == state.seq, e.hash == state.head, e.computedHash == e.hash else {
            return .failure(Unproved(message: "the journal line at its seq is seq \(e.seq) \(e.hash), not seq \(state.seq) \(state.head?.description ?? "none")"))
        }
        return .success((state, line.end))
    }

    /// Whether the genesis records `key` as its persona's key (so a seal by it is provable).
    func trusts(_ key: SigningKey) -> Bool {
        genesis.data["personas"]?[key.persona]?["key_id"]?.stringValue == key.publicKey.keyID
    }

    /// The snapshot bytes of `doc`, sealed by `sealer` if given.
    func sealedBytes(_ doc: JSONValue, sealer: SigningKey?) -> [UInt8] {
        guard let sealer else { return PrettyJSON.bytes(doc) }
        return PrettyJSON.bytes(SnapshotSeal.seal(doc, genesisHash: genesis.hash, with: sealer))
    }

    func noteStored(seq: Int, sealed: Bool) {
        let now = options.now()
        inner.withLock { i in
            i.snapshotStoredAt = now
            // An unsealed snapshot is not one a later open can start from.
            if sealed { i.snapshotSeq = max(i.snapshotSeq, seq) }
        }
    }

    /// After an open that could not prove the stored snapshot: stores the replayed state's
    /// snapshot (unsealed, not synced) unless the stored bytes already say exactly that. A
    /// stored snapshot claiming a seq beyond the journal's end is replaced too (its claim is
    /// false). Failures are reported through ``Options/warn`` only: reading goes on.
    func rebuildSnapshot(replacing stored: [UInt8]?) async {
        let (doc, seq) = inner.withLock { i in (i.state.snapshot(), i.state.seq) }
        let bytes = PrettyJSON.bytes(doc)
        if let stored, SnapshotSeal.unsealedBytes(stored) == bytes { return }
        let claimsLater = stored.flatMap(SnapshotSeal.storedSeq).map { $0 > seq } ?? false
        do {
            try await store.storeSnapshot(ref, bytes, seq: seq, SnapshotWrite(durable: false, replaceLater: claimsLater))
            noteStored(seq: seq, sealed: false)
        } catch {
            options.warn?("could not rebuild the snapshot of \(ref.statusID): \((error as? LogbookError)?.message ?? "\(error)")")
        }
    }
}
