import Foundation
import LogbookCore

/// What `migrate` did, or in a dry run would do, with one legacy plan file.
public struct MigrationOutcome: Sendable {
    public enum Action: String, Sendable {
        /// Written now: locked plan, journal with the `migrated` genesis, snapshot, backup.
        case migrated
        /// An interrupted migration of the same source was completed.
        case resumed
        /// The same plan id was migrated from the same source bytes before: nothing changed.
        case alreadyMigrated = "already_migrated"
        /// Dry run: nothing written.
        case wouldMigrate = "would_migrate"
    }

    public var action: Action
    /// The source as named by the caller.
    public var source: String
    public var result: LegacyMigration.Result
    /// g of the plan (`exec_plan_<g>.txt`, `exec_status_<g>.journal`).
    public var planG: Int
    /// The names of the plan, its journal and its snapshot as the file backend stores them
    /// (relative to the workspace; other backends use them in messages).
    public var planPath: String
    public var journalPath: String
    public var snapshotPath: String
    /// Copies of the source (and of the state file whose counters were read), in `migrated/`.
    public var backupPaths: [String]
    /// The genesis written (or, in a dry run, the one that would be; for `alreadyMigrated`, the recorded one).
    public var genesis: Event
    /// The state after the genesis (for `alreadyMigrated`, the current state).
    public var state: StatusState
    /// The workspace g before and after.
    public var gBefore: Int
    public var gAfter: Int
    /// Whether state.txt points (or would point) at this status now.
    public var pointsStateHere: Bool
}

extension LogbookEngine {
    /// Options of ``migrate(bytes:source:options:)``.
    public struct MigrateOptions: Sendable {
        /// The supervisor who signs the `migrated` genesis.
        public var persona: String
        public var signer: SigningKey?
        /// Persona for tasks that name none.
        public var defaultPersona: String?
        /// `rt` counters of a legacy state.txt.
        public var retryCounters: LegacyRetryCounters?
        public var dryRun: Bool
        /// Status ids that may be replaced as state.txt's pointer as if none were live (the CLI
        /// passes those migrated earlier in the same call, so state.txt ends at the last one).
        public var replaceablePointers: Set<String>
        /// Dry runs only: the workspace g to assume (earlier files of the same dry run would have
        /// advanced it).
        public var assumeG: Int?

        public init(persona: String, signer: SigningKey?, defaultPersona: String? = nil, retryCounters: LegacyRetryCounters? = nil,
                    dryRun: Bool = false, replaceablePointers: Set<String> = [], assumeG: Int? = nil) {
            self.persona = persona
            self.signer = signer
            self.defaultPersona = defaultPersona
            self.retryCounters = retryCounters
            self.dryRun = dryRun
            self.replaceablePointers = replaceablePointers
            self.assumeG = assumeG
        }
    }

    /// Migrates one legacy plan into this workspace (SPEC §8): a clean LOCKED v5.4 plan
    /// (`exec_plan_<g>.txt`), its status journal whose genesis is a signed `migrated` event
    /// carrying the removed live state verbatim, the snapshot, g advanced, a copy of the source
    /// in `migrated/`, and state.txt pointed at the new status when none is live.
    ///
    /// Idempotent: a plan with the same id whose genesis records the same source digest is
    /// left alone (`alreadyMigrated`). Nothing is written when the source is not JSON, not a plan
    /// shape, or invalid, when a persona is missing, or in a dry run. A migration interrupted
    /// by a crash is completed by running it again. Every error message starts with `source`.
    public func migrate(bytes: [UInt8], source: String, options: MigrateOptions) async throws -> MigrationOutcome {
        do {
            let r = try LegacyMigration.migrate(bytes: bytes, options: .init(
                sourceName: source, defaultPersona: options.defaultPersona, retryCounters: options.retryCounters))
            if options.dryRun { return try await migrateLocked(r, bytes: bytes, source: source, options: options) }
            return try await catalog.exclusive { try await migrateLocked(r, bytes: bytes, source: source, options: options) }
        } catch let e as LogbookError {
            if e.message.hasPrefix(source + ":") { throw e }
            throw LogbookError(e.code, "\(source): \(e.description)")
        }
    }

    /// Whether state.txt points at a status whose journal exists.
    func hasLiveStatus(_ state: WorkspaceState, ignoring: Set<String> = []) async throws -> Bool {
        guard let id = state.currentStatusID, !ignoring.contains(id), let g = state.currentPlanG,
              let plan = try await catalog.loadPlan(g: g) else { return false }
        return try await journals.journalExists(plan.journalRef)
    }

    private func migrateLocked(_ r: LegacyMigration.Result, bytes: [UInt8], source: String, options: MigrateOptions) async throws -> MigrationOutcome {
        let registry = try await catalog.loadPersonas()
        let state0 = try await catalog.loadState()
        var resume: PlanFile?
        if let existing = try await catalog.listPlans().first(where: { $0.id == r.planID }) {
            let ref = existing.journalRef
            if try await journals.journalExists(ref) {
                guard let first = try await journals.read(ref, from: 0, limit: 1).first else {
                    throw LogbookError(.corrupt, "plan \(r.planID) exists (\(existing.name)) but its journal is empty; run `logbook verify`")
                }
                let e = try Event(line: first.bytes)
                let recorded = e.data["migration"]?["source_sha256"]?.stringValue
                if e.type == .migrated, recorded == r.sourceDigest.description {
                    let book = try await self.book(existing)
                    return MigrationOutcome(
                        action: .alreadyMigrated, source: source, result: r, planG: existing.g, planPath: existing.path,
                        journalPath: "\(ref.statusID).journal", snapshotPath: "\(ref.statusID).txt",
                        backupPaths: try await backups(ref), genesis: e, state: try await book.state(),
                        gBefore: state0.g, gAfter: state0.g, pointsStateHere: state0.currentStatusID == ref.statusID)
                }
                let how = e.type == .migrated ? "migrated from other source bytes (\(recorded ?? "no digest"), this file is \(r.sourceDigest))" : "created in this workspace"
                throw LogbookError(.alreadyExists, "plan \(r.planID) already exists as \(existing.name), \(how); nothing written (to migrate this file as well, give it another plan id)")
            }
            guard existing.document.isLocked, existing.document.header["migrated_from_sha256"]?.stringValue == r.sourceDigest.description else {
                throw LogbookError(.alreadyExists, "plan \(r.planID) already exists as \(existing.name) (\(existing.document.isLocked ? "locked" : "a DRAFT")); nothing written")
            }
            resume = existing
        }

        // Everything is built and checked before the first write: a refused migration writes nothing.
        let gNow = options.dryRun ? (options.assumeG ?? state0.g) : state0.g
        let gPlan = resume?.g ?? gNow + 1
        let gGenesis = max(gNow, gPlan) + 1
        let locked = r.plan.locked()
        let spec = try locked.spec(personas: registry)
        if let resume, resume.document.digest != locked.digest {
            throw LogbookError(.conflict, "an interrupted migration of \(r.planID) left \(resume.name) with another plan digest (different --default-persona?); rerun with the options of the first run, or remove that file")
        }
        let genesis = try Genesis.make(plan: locked, spec: spec, gPlan: gPlan, g: gGenesis, registry: registry, locker: options.persona,
                                       signer: options.signer, ts: timestamp(), type: .migrated, extra: r.genesisData)
        guard genesis.line.count <= Event.maxGenesisLineBytes else {
            throw LogbookError(.badInput, "the migrated genesis would be \(genesis.line.count) bytes; the limit is \(Event.maxGenesisLineBytes) bytes (the legacy state is too large for one event)", plan: r.planID, rule: "size_limit")
        }
        var state = StatusState(plan: spec)
        try state.apply(genesis)

        let ref = JournalRef(planID: spec.id, g: gPlan)
        var doc = locked
        var header = doc.header
        header["file_id"] = .string("exec_plan_\(gPlan)")
        header["entity_type"] = .string(PlanDocument.entityType)
        header["schema_definition_id_ref"] = .string(PlanDocument.schemaID)
        header["g_file_created"] = .number(Double(gPlan))
        header["g_file_last_modified"] = .number(Double(gGenesis))
        header["v_file_instance"] = 1
        header["locked_by_persona_id"] = .string(options.persona)
        header["g_locked"] = .number(Double(gGenesis))
        header["plan_digest"] = .string(locked.digest.description)
        header["migrated_from_file"] = .string(source)
        header["migrated_from_sha256"] = .string(r.sourceDigest.description)
        doc.setHeader(header)
        let planPath = resume?.path ?? "exec_plan_\(gPlan).txt"
        let point = try await !hasLiveStatus(state0, ignoring: options.replaceablePointers)
        var backupPaths = [artifacts.name(of: .migrationSource, ref)]
        if let rc = r.retryCounters, !rc.sourceBytes.isEmpty { backupPaths.append(artifacts.name(of: .migrationRetryCounters, ref)) }
        let outcome = MigrationOutcome(
            action: options.dryRun ? .wouldMigrate : resume == nil ? .migrated : .resumed, source: source, result: r, planG: gPlan,
            planPath: planPath, journalPath: "\(ref.statusID).journal", snapshotPath: "\(ref.statusID).txt", backupPaths: backupPaths,
            genesis: genesis, state: state, gBefore: gNow, gAfter: gGenesis, pointsStateHere: point)
        if options.dryRun { return outcome }

        // The source bytes first (a rerun finds them), then the install (which writes in an
        // order a rerun completes, ``Catalog/install(_:)``).
        try await artifacts.store(.migrationSource, of: ref, bytes)
        if backupPaths.count > 1, let rc = r.retryCounters { try await artifacts.store(.migrationRetryCounters, of: ref, rc.sourceBytes) }
        let snapshot = try firstSnapshot(spec: spec, genesis: genesis, sealer: options.signer)
        try await catalog.install(PlanInstall(plan: doc, g: gPlan, genesis: genesis.line, snapshot: snapshot, gAfter: gGenesis,
                                              point: point, replacesDraft: false))
        books.forget(ref)
        return outcome
    }

    private func backups(_ ref: JournalRef) async throws -> [String] {
        var out: [String] = []
        for a in [Artifact.migrationSource, .migrationRetryCounters] where try await artifacts.load(a, of: ref) != nil {
            out.append(artifacts.name(of: a, ref))
        }
        return out
    }
}
