import Foundation
import LogbookCore

extension LogbookEngine {
    /// The status of a locked plan, for reading and writing: this process's one book for it
    /// (every caller shares its group commit and cached state).
    ///
    /// The plan is first checked against the digest its journal's genesis binds
    /// (``provenPlan(_:)``), on every call; the stored snapshot is used only if it is proved
    /// (see `StatusBook.open`).
    public func book(_ file: PlanFile) async throws -> StatusBook {
        let (spec, genesis) = try await lockedPlanAndGenesis(file)
        let book = try await books.book(file.journalRef) {
            try await openBook(file, spec: spec, genesis: genesis, options: options)
        }
        guard book.genesis.hash == genesis.hash else {
            // The journal was replaced under this process (a test, a restore): start again.
            books.forget(file.journalRef)
            return try await self.book(file)
        }
        return book
    }

    /// The shared book of the locked plan `selector` names (its id, `exec_plan_<g>` or g), for a
    /// caller that names the plan on every request (the server).
    ///
    /// The first call is ``plan(_:)`` then ``book(_:)``: the plan file is read and proved
    /// against its genesis, and the book opens on that proved plan. Later calls with the same
    /// selector return the same book after one check that its journal is still there: a locked
    /// plan cannot change, the book works from the plan it proved (never from the file again),
    /// and everything it folds is checked against the journal's chain. A plan file edited after
    /// that is found by the calls that read the file (the plan document, `verify`, a new
    /// process); an archived or removed journal sends the caller back to the first path, which
    /// says what happened.
    public func book(plan selector: String) async throws -> StatusBook {
        if let open = books.book(named: selector), try await journals.journalExists(open.ref) { return open }
        let file = try await plan(selector)
        let book = try await book(file)
        books.name(selector, book.ref)
        return book
    }

    /// A book of its own (not shared), with other snapshot settings: for tests and benchmarks
    /// that measure one book.
    public func privateBook(_ file: PlanFile, snapshotInterval: Int? = nil, verifySignatures: Bool? = nil,
                            snapshotMaxAge: Double? = nil) async throws -> StatusBook {
        let (spec, genesis) = try await lockedPlanAndGenesis(file)
        var o = options
        if let snapshotInterval { o.snapshotInterval = snapshotInterval }
        if let verifySignatures { o.verifySignatures = verifySignatures }
        if let snapshotMaxAge { o.snapshotMaxAge = snapshotMaxAge }
        return try await openBook(file, spec: spec, genesis: genesis, options: o)
    }

    func openBook(_ file: PlanFile, spec: PlanSpec, genesis: Event, options o: Options) async throws -> StatusBook {
        // Every line the book folds but did not write has its signature checked with these keys
        // (the registry's, each under the key id its public key hashes to; the rules require
        // the key id the genesis trusts), so a line forged without a key is never built on.
        let registryKeys = try await catalog.loadPersonas().keysByID
        let catalog = self.catalog
        let logger = self.logger
        // The hook must not hold this engine: the engine's registry holds the book, and a cycle
        // would keep every engine, its store and its descriptors alive for the whole process.
        let storage = self.storage
        let engineOptions = self.options
        let afterCommit: @Sendable ([SigningKey]) async -> Void = { signers in
            guard let witness = storage.journals as? any RotationWitnessing,
                  witness.rotationAwaitingCheckpoint(file.journalRef) != nil else { return }
            await LogbookEngine(storage: storage, options: engineOptions, logger: logger).signRotationCheckpoint(file, signers: signers)
        }
        var options = StatusBook.Options(snapshotInterval: o.snapshotInterval, now: o.now, currentG: { try catalog.currentG() },
                                         afterCommit: afterCommit,
                                         verifyKeys: o.verifySignatures ? registryKeys : nil, snapshotMaxAge: o.snapshotMaxAge,
                                         warn: { message in logger.warning("\(message)") }, lineKeys: registryKeys)
        options.observeCommit = o.observeCommit
        return try await StatusBook.open(store: journals, ref: file.journalRef, plan: spec, options: options, genesis: genesis)
    }

    /// Checks that a locked plan is the plan its status journal was locked on: the genesis
    /// (seq 0, the journal's first line, the only one read) binds its digest. Call it before
    /// printing a locked plan or its status; ``book(_:)`` calls it before every read and write.
    ///
    /// A DRAFT without a journal passes (there is nothing to match).
    ///
    /// - Returns: the genesis event (nil for a DRAFT).
    /// - Throws: `.corrupt` (exit 6) with `verify`'s finding when the plan was edited after lock
    ///   (naming the edited task when it can) or its lock flags were removed; nothing is written.
    @discardableResult
    public func provenPlan(_ file: PlanFile) async throws -> Event? {
        try await provedPlanAndGenesis(file)?.genesis
    }

    /// ``provedPlanAndGenesis(_:)`` for a plan that must be locked: a DRAFT is `.notLocked`.
    func lockedPlanAndGenesis(_ file: PlanFile) async throws -> (spec: PlanSpec, genesis: Event) {
        guard let proved = try await provedPlanAndGenesis(file) else {
            throw LogbookError(.notLocked, "plan \(file.id) is a DRAFT; lock it first (`logbook plan lock \(file.id) --persona SUPERVISOR`)", plan: file.id)
        }
        return proved
    }

    /// ``provenPlan(_:)`` with the plan's spec it parsed (nil for a DRAFT without a journal).
    func provedPlanAndGenesis(_ file: PlanFile) async throws -> (spec: PlanSpec, genesis: Event)? {
        let ref = file.journalRef
        guard try await journals.journalExists(ref) else {
            if file.document.isLocked {
                throw LogbookError(.notLocked, "plan \(file.id) has no status journal (is it locked?)", plan: file.id)
            }
            return nil
        }
        let spec: PlanSpec
        do { spec = try file.document.spec() } catch {
            throw LogbookError(.corrupt, "the plan file is no longer a valid plan: \(error.description); run `logbook verify`", plan: file.id, seq: 0)
        }
        let genesis = try await StatusBook.readGenesis(store: journals, ref: ref, plan: spec)
        try PlanProof.check(file.document, genesis: genesis)
        return (spec, genesis)
    }
}
