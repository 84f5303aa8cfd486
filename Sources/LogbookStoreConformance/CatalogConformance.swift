import LogbookCore
import LogbookEngine

/// The executable definition of a ``Catalog``: every backend's test target runs these checks,
/// each on a fresh storage (a new workspace: g 0, no personas, no plans).
///
/// ```swift
/// @Test(arguments: CatalogConformance.checks)
/// func catalog(_ check: ConformanceCheck) async throws { try await check.run(makeStorage()) }
/// ```
public enum CatalogConformance {
    public static let checks: [ConformanceCheck] = [
        ConformanceCheck("state compare-and-swap", stateCompareAndSwap),
        ConformanceCheck("personas round trip", personasRoundTrip),
        ConformanceCheck("DRAFT create-only and replace", draftCreateAndReplace),
        ConformanceCheck("install and idempotent rerun", installAndRerun),
        ConformanceCheck("install completes an interrupted one", installCompletesInterrupted),
        ConformanceCheck("install with another genesis refused", installOtherGenesisRefused),
        ConformanceCheck("exclusive excludes", exclusiveExcludes),
    ]

    /// Two writers store from the same version at once: exactly one wins, the other gets
    /// `.conflict` naming both versions and writes nothing; `currentG` follows the winner.
    public static func stateCompareAndSwap(_ s: Storage) async throws {
        let check = "state compare-and-swap"
        let c = s.catalog
        let s0 = try await c.loadState()
        let results = await withTaskGroup(of: (Int, Result<Void, any Error>).self) { group in
            for marker in [41, 42] {
                group.addTask {
                    let next = s0.updated { $0["g"] = JSONValue(marker) }
                    do { try await c.storeState(next, expected: s0.version); return (marker, .success(())) } catch {
                        return (marker, .failure(error))
                    }
                }
            }
            var out: [(Int, Result<Void, any Error>)] = []
            for await r in group { out.append(r) }
            return out
        }
        let winners = results.filter { if case .success = $0.1 { true } else { false } }.map(\.0)
        try expect(winners.count == 1, check, "\(winners.count) of two writers from version \(s0.version) won (expected exactly one)")
        let after = try await c.loadState()
        try expect(after.g == winners[0], check, "the state has g \(after.g), not the winner's \(winners[0])")
        try expect(after.version != s0.version, check, "the winner's write left the version at \(s0.version)")
        for case (let marker, .failure(let error)) in results {
            guard let e = error as? LogbookError, e.code == .conflict else {
                throw ConformanceFailure(check: check, message: "the loser (g \(marker)) got \(error), not a conflict")
            }
            try expect(e.message.contains("\(s0.version)") && e.message.contains("\(after.version)"), check,
                        "the conflict does not name both versions (\(s0.version), \(after.version)): \(e.message)")
        }
        // A stale writer later: refused, nothing written.
        try await expectError(.conflict, check, "a write from the old version") {
            try await c.storeState(s0.updated { $0["g"] = 99 }, expected: s0.version)
        }
        let final = try await c.loadState()
        try expect(canonical(final.json) == canonical(after.json), check, "a refused write changed the state")
        let g = try c.currentG()
        try expect(g == after.g, check, "currentG() is \(g), the state's g is \(after.g)")
        // The engine's read-modify-write goes through the same swap.
        let updated = try await c.updateState { $0["g"] = JSONValue(after.g + 1) }
        try expect(try await c.loadState().g == after.g + 1 && updated.g == after.g + 1, check, "updateState did not store g \(after.g + 1)")
        try expect(try c.currentG() == after.g + 1, check, "currentG() did not follow a state change")
    }

    /// The registry stored is the registry loaded, including a later replacement.
    public static func personasRoundTrip(_ s: Storage) async throws {
        let check = "personas round trip"
        let f = CatalogFixture()
        let empty = try await s.catalog.loadPersonas()
        try expect(empty.personas.isEmpty, check, "a fresh workspace has personas: \(empty.personas.keys.sorted())")
        try await s.catalog.storePersonas(f.registry)
        let loaded = try await s.catalog.loadPersonas()
        try expect(loaded == f.registry, check, "the loaded registry differs from the stored one: \(loaded.sorted.map(\.id))")
        var fewer = f.registry
        fewer.personas["WORKER"] = nil
        try await s.catalog.storePersonas(fewer)
        try expect(try await s.catalog.loadPersonas() == fewer, check, "a replaced registry was not stored as given")
    }

    /// `create` never writes over a plan; replace does (not over a locked one); a locked
    /// document is never stored as a DRAFT; plans are listed by g.
    public static func draftCreateAndReplace(_ s: Storage) async throws {
        let check = "DRAFT create-only and replace"
        let c = s.catalog
        let f = CatalogFixture()
        try await c.storePersonas(f.registry)
        let d1 = try f.draft("EP-CONF-A", goal: "first")
        let d2 = try f.draft("EP-CONF-A", goal: "second")
        let stored = try await c.storeDraft(d1, g: 1, create: true)
        try expect(stored.g == 1 && stored.id == "EP-CONF-A" && !stored.path.isEmpty, check, "storeDraft returned g \(stored.g), id \(stored.id), path \(stored.path)")
        try expect(try await c.loadPlan(g: 1).map { canonical($0.document.json) } == canonical(d1.json), check, "the DRAFT loaded is not the one stored")
        try await expectError(.alreadyExists, check, "a create over an existing plan") {
            _ = try await c.storeDraft(d2, g: 1, create: true)
        }
        try expect(try await c.loadPlan(g: 1).map { canonical($0.document.json) } == canonical(d1.json), check, "a refused create changed the plan")
        _ = try await c.storeDraft(d2, g: 1, create: false)
        try expect(try await c.loadPlan(g: 1).map { canonical($0.document.json) } == canonical(d2.json), check, "a replace did not store the new DRAFT")
        try await expectError(.badInput, check, "a locked document stored as a DRAFT") {
            _ = try await c.storeDraft(d1.locked(), g: 4, create: true)
        }
        try expect(try await c.loadPlan(g: 4) == nil, check, "a refused locked document was stored")
        _ = try await c.storeDraft(try f.draft("EP-CONF-C"), g: 3, create: true)
        _ = try await c.storeDraft(try f.draft("EP-CONF-B"), g: 2, create: true)
        let listed = try await c.listPlans()
        try expect(listed.map(\.g) == [1, 2, 3] && listed.map(\.id) == ["EP-CONF-A", "EP-CONF-B", "EP-CONF-C"], check,
                    "listPlans gave \(listed.map { "\($0.g):\($0.id)" })")
        try expect(try await c.loadPlan(g: 9) == nil, check, "loadPlan of an unused g is not nil")
        // Locked plans never change through storeDraft.
        try await c.install(try f.install(d2, g: 1))
        try await expectError(.locked, check, "a replace over a locked plan") {
            _ = try await c.storeDraft(d1, g: 1, create: false)
        }
        try expect(try await c.loadPlan(g: 1)?.document.isLocked == true, check, "a refused replace unlocked the plan")
    }

    /// One install writes the locked plan, the journal's genesis, the snapshot, g and the
    /// pointer; running it again changes nothing.
    public static func installAndRerun(_ s: Storage) async throws {
        let check = "install and idempotent rerun"
        let c = s.catalog
        let f = CatalogFixture()
        try await c.storePersonas(f.registry)
        let draft = try f.draft("EP-CONF-L")
        try await c.updateState { $0["g"] = 1 }
        _ = try await c.storeDraft(draft, g: 1, create: true)
        let lock = try f.install(draft, g: 1)
        try await c.install(lock)
        try await requireInstalled(s, lock, check)
        let state = try await c.loadState()
        try await c.install(lock)
        try await requireInstalled(s, lock, check)
        try expect(canonical(try await c.loadState().json) == canonical(state.json), check, "a rerun of a complete install changed the state")

        // Migrate: no DRAFT, a new locked plan; the pointer stays where it is when not asked.
        let migrated = try f.install(try f.draft("EP-CONF-M"), g: 3, point: false, replacesDraft: false)
        try await c.install(migrated)
        try await requireInstalled(s, migrated, check)
        try await c.install(migrated)
        try await requireInstalled(s, migrated, check)
        let after = try await c.loadState()
        try expect(after.currentStatusID == lock.ref.statusID, check, "an install without `point` moved the pointer to \(after.currentStatusID ?? "none")")
        try expect(after.g == migrated.gAfter, check, "g is \(after.g) after installing at \(migrated.gAfter)")
    }

    /// The steps a crash can leave (a lock's journal without its locked plan; a migrate's
    /// locked plan without its journal) are completed by the same install.
    public static func installCompletesInterrupted(_ s: Storage) async throws {
        let check = "install completes an interrupted one"
        let c = s.catalog
        let f = CatalogFixture()
        try await c.storePersonas(f.registry)
        let draft = try f.draft("EP-CONF-I")
        _ = try await c.storeDraft(draft, g: 1, create: true)
        let lock = try f.install(draft, g: 1)
        // A lock that got as far as the journal.
        try await c.updateState { $0["g"] = JSONValue(lock.gAfter) }
        try await s.journals.createJournal(lock.ref, genesis: lock.genesis)
        try await c.install(lock)
        try await requireInstalled(s, lock, check)

        // A migrate that wrote g but not its document, then one that wrote the document only.
        let migrated = try f.install(try f.draft("EP-CONF-J"), g: 4, point: false, replacesDraft: false)
        try await c.updateState { $0["g"] = JSONValue(migrated.gAfter) }
        try await c.install(migrated)
        try await requireInstalled(s, migrated, check)
    }

    /// A journal that exists with another genesis is `.conflict`, and nothing is written: the
    /// plan stays a DRAFT, the state and the journal as they were. A migrate over a DRAFT is
    /// refused too.
    public static func installOtherGenesisRefused(_ s: Storage) async throws {
        let check = "install with another genesis refused"
        let c = s.catalog
        let f = CatalogFixture()
        try await c.storePersonas(f.registry)
        let draft = try f.draft("EP-CONF-G")
        _ = try await c.storeDraft(draft, g: 1, create: true)
        let first = try f.install(draft, g: 1, ts: "2026-01-01T00:00:00.000Z")
        let other = try f.install(draft, g: 1, ts: "2026-01-02T00:00:00.000Z")
        try expect(first.genesis != other.genesis, check, "the fixture built the same genesis twice")
        try await s.journals.createJournal(first.ref, genesis: first.genesis)
        let before = try await c.loadState()
        try await expectError(.conflict, check, "an install over a journal with another genesis") {
            try await c.install(other)
        }
        try expect(canonical(try await c.loadState().json) == canonical(before.json), check, "a refused install changed the state")
        try expect(try await c.loadPlan(g: 1)?.document.isLocked == false, check, "a refused install locked the plan")
        let lines = try await s.journals.read(first.ref, from: 0, limit: 1 << 20)
        try expect(lines.map(\.bytes) == [Array(first.genesis.dropLast())], check, "a refused install changed the journal")
        try expect(try await s.journals.loadSnapshot(first.ref) == nil, check, "a refused install stored a snapshot")

        let overDraft = try f.install(draft, g: 1, replacesDraft: false)
        try await expectError(.alreadyExists, check, "a migrate-style install over a DRAFT") {
            try await c.install(overDraft)
        }
        try expect(try await c.loadPlan(g: 1)?.document.isLocked == false, check, "a refused migrate replaced the DRAFT")
    }

    /// Two tasks in `exclusive` never overlap; inside it the state can be changed (the
    /// catalog's own writes do not wait for the lock the task holds); a nested `exclusive` is
    /// refused (`.conflict`), never a deadlock.
    public static func exclusiveExcludes(_ s: Storage) async throws {
        let check = "exclusive excludes"
        let c = s.catalog
        let overlap = Overlap()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    overlap.start()
                    try await c.exclusive {
                        overlap.enter()
                        try await overlap.awaitStarted(2)
                        try await giveWay()
                        try await c.updateState { $0["g"] = JSONValue(($0["g"]?.intValue ?? 0) + 1) }
                        try await giveWay()
                        overlap.leave()
                    }
                }
            }
            try await group.waitForAll()
        }
        try expect(overlap.entries == 2 && overlap.most == 1, check, "\(overlap.most) tasks were inside exclusive at once (of \(overlap.entries))")
        let g = try await c.loadState().g
        try expect(g == 2, check, "two increments inside exclusive gave g \(g)")
        try await expectError(.conflict, check, "exclusive inside exclusive") {
            try await c.exclusive { try await c.exclusive { () } }
        }
    }

    /// Everything `install` promises, as stored.
    public static func requireInstalled(_ s: Storage, _ i: PlanInstall, _ check: String = "installed") async throws {
        let plan = try await s.catalog.loadPlan(g: i.g)
        try expect(plan?.document.isLocked == true && plan?.document.digest == i.plan.digest, check,
                    "exec_plan_\(i.g) is \(plan == nil ? "missing" : "not the locked plan") after install")
        try expect(plan.map { canonical($0.document.json) } == canonical(i.plan.json), check, "the installed plan document differs from the one given")
        let lines = try await s.journals.read(i.ref, from: 0, limit: 1 << 20)
        try expect(lines.map(\.bytes) == [Array(i.genesis.dropLast())], check, "the journal of \(i.ref) is not exactly the genesis (\(lines.count) lines)")
        try expect(try await s.journals.loadSnapshot(i.ref) == i.snapshot, check, "the snapshot of \(i.ref) is not the one installed")
        let state = try await s.catalog.loadState()
        try expect(state.g >= i.gAfter, check, "g is \(state.g), below \(i.gAfter)")
        if i.point {
            try expect(state.currentStatusID == i.ref.statusID && state.currentPlanID == i.ref.planID, check,
                        "the pointer is \(state.currentStatusID ?? "none") / \(state.currentPlanID ?? "none"), not \(i.ref.statusID) / \(i.ref.planID)")
        }
    }
}
