import LogbookCore
import LogbookEngine

/// A plan's whole life run through ``LogbookEngine`` on a backend: the checks every backend's
/// test target runs with a fresh, empty storage whose signer source keeps new keys (the file
/// backend's key folder, ``InMemorySigners``). A backend passes when the engine's workflows,
/// which know nothing of files or tables, work unchanged on it.
///
/// ```swift
/// @Test(arguments: LifecycleConformance.checks)
/// func lifecycle(_ check: ConformanceCheck) async throws { try await check.run(makeStorage()) }
/// ```
public enum LifecycleConformance {
    public static let checks: [ConformanceCheck] = [
        ConformanceCheck("lock → events → validate → freeze → archive → verify", wholeLife),
        ConformanceCheck("one book per plan per engine", oneBookPerPlan),
        ConformanceCheck("concurrent DRAFT edits all land", concurrentDraftEdits),
        ConformanceCheck("key rotation on a live plan", keyRotation),
        ConformanceCheck("checkpoints and proofs", checkpointsAndProofs),
    ]

    /// Personas SUPERVISOR and WORKER, and plan `id` (T1 → T2, WORKER's) locked.
    static func lockedPlan(_ engine: LogbookEngine, _ id: String = "EP-LIFE") async throws -> PlanFile {
        if try await engine.personas()["SUPERVISOR"] == nil {
            try await engine.addPersona("SUPERVISOR", role: .supervisor, archetype: "SUPERVISOR")
            try await engine.addPersona("WORKER", role: .worker, archetype: "IMPLEMENTER")
        }
        let draft = try CatalogFixture().draft(id)
        _ = try await engine.importPlan(bytes: PrettyJSON.bytes(draft.json), name: "\(id).json")
        let (file, genesis) = try await engine.lockPlan(id, persona: "SUPERVISOR", signer: try await engine.signingKey(for: "SUPERVISOR"))
        try expect(genesis.seq == 0 && file.document.isLocked, "lock", "lock returned seq \(genesis.seq), locked \(file.document.isLocked)")
        return file
    }

    static func finishTasks(_ engine: LogbookEngine, _ file: PlanFile) async throws {
        let book = try await engine.book(file)
        let key = try await engine.signingKey(for: "WORKER")
        for t in ["T1", "T2"] {
            _ = try await book.submit(EventRequest(type: .started, task: t, persona: "WORKER"), signer: key)
            _ = try await book.submit(EventRequest(type: .progress, task: t, persona: "WORKER", data: ["percent": 50, "note": .string("half of \(t)")]), signer: key)
            _ = try await book.submit(EventRequest(type: .done, task: t, persona: "WORKER", data: ["summary": .string("\(t) done")]), signer: key)
        }
    }

    /// The lifecycle end to end: a refused write names its rule and writes nothing; validate
    /// records PASS; freeze writes a report that checks; archive seals the journal (later writes
    /// are refused, reads go on) and moves the state; verify passes at every step.
    public static func wholeLife(_ s: Storage) async throws {
        let check = "lock → events → validate → freeze → archive → verify"
        let engine = LogbookEngine(storage: s)
        let file = try await lockedPlan(engine)
        let state0 = try await s.catalog.loadState()
        try expect(state0.currentStatusID == file.journalRef.statusID, check, "lock did not point the state at \(file.journalRef.statusID) (it points at \(state0.currentStatusID ?? "nothing"))")
        let book = try await engine.book(file)
        let sup = try await engine.signingKey(for: "SUPERVISOR")
        let worker = try await engine.signingKey(for: "WORKER")

        // T2 depends on T1: refused, nothing written.
        let head0 = try await s.journals.head(file.journalRef)
        let refused = try await expectError(.refused, check, "starting T2 before T1") {
            _ = try await book.submit(EventRequest(type: .started, task: "T2", persona: "WORKER"), signer: worker)
        }
        try expect(refused.task == "T2" && refused.plan == file.id, check, "the refusal does not name plan and task: \(refused.json)")
        try expect(try await s.journals.head(file.journalRef) == head0, check, "a refused write moved the head")

        try await finishTasks(engine, file)
        var report = try await engine.verify(file)
        try expect(report.ok && report.events == 7, check, "verify after the work: ok \(report.ok), \(report.events) events, \(report.failure?.description ?? "")")

        let validation = try await engine.validate(file, persona: "SUPERVISOR", signer: sup)
        try expect(validation.verdict == "PASS", check, "validate gave \(validation.verdict): \(validation.criteria.filter { !$0.pass }.map(\.name))")
        let (frozen, reportJSON) = try await engine.freeze(file, persona: "SUPERVISOR", signer: sup)
        try expect(reportJSON["verdict"]?.stringValue == "PASS", check, "the report's verdict is \(reportJSON["verdict"]?.stringValue ?? "missing")")
        try expect(try await s.artifacts.load(.reportJSON, of: file.journalRef) != nil, check, "freeze stored no report")
        let reportCheck = try await engine.checkReport(file)
        try expect(reportCheck.ok, check, "the report does not check: \(reportCheck.message)")
        let late = try await expectError(.refused, check, "a write after freeze") {
            _ = try await book.submit(EventRequest(type: .achievement, task: "T1", persona: "WORKER", data: ["summary": "late"]), signer: worker)
        }
        try expect(late.message.contains("FROZEN") || late.message.contains("frozen"), check, "the refusal after freeze does not say the status is frozen: \(late.message)")

        let archived = try await engine.archive(file, persona: "SUPERVISOR", signer: sup)
        try expect(archived.event.seq > frozen.seq && archived.movedState, check, "archive at seq \(archived.event.seq) (frozen at \(frozen.seq)), moved state \(archived.movedState)")
        try expect(try await s.journals.isSealed(file.journalRef), check, "archive did not seal the journal")
        let after = try await s.catalog.loadState()
        try expect(after.currentStatusID == nil && after.g > state0.g, check, "after archive the state points at \(after.currentStatusID ?? "nothing") with g \(after.g) (was \(state0.g))")
        report = try await engine.verify(file)
        try expect(report.ok && report.events == archived.event.seq + 1, check, "verify after archive: ok \(report.ok), \(report.events) events, \(report.failure?.description ?? "")")
        // Archive again: nothing new, nothing broken.
        let again = try await engine.archive(file, persona: "SUPERVISOR", signer: sup)
        try expect(again.event.seq == archived.event.seq && !again.movedState, check, "a second archive recorded seq \(again.event.seq) or moved the state")
    }

    /// Every caller of one engine shares one book per plan (one group commit); a second engine is
    /// another process's view and sees the first one's events.
    public static func oneBookPerPlan(_ s: Storage) async throws {
        let check = "one book per plan per engine"
        let engine = LogbookEngine(storage: s)
        let file = try await lockedPlan(engine)
        let a = try await engine.book(file)
        let b = try await engine.book(try await engine.plan(file.id))
        try expect(a === b, check, "two calls of book(_:) gave two books")
        let key = try await engine.signingKey(for: "WORKER")
        _ = try await a.submit(EventRequest(type: .started, task: "T1", persona: "WORKER"), signer: key)
        let other = LogbookEngine(storage: s)
        let seen = try await other.book(file).state()
        try expect(seen.seq == 1 && seen.task("T1")?.status == .inProgress, check, "a second engine sees seq \(seen.seq), T1 \(seen.task("T1")?.status.rawValue ?? "?")")
    }

    /// Eight edits of one DRAFT at once, each adding a task: all eight land, none is lost, and
    /// the version advanced once per edit.
    public static func concurrentDraftEdits(_ s: Storage) async throws {
        let check = "concurrent DRAFT edits all land"
        let engine = LogbookEngine(storage: s)
        try await engine.addPersona("SUPERVISOR", role: .supervisor, archetype: "SUPERVISOR")
        try await engine.addPersona("WORKER", role: .worker, archetype: "IMPLEMENTER")
        let draft = try CatalogFixture().draft("EP-DRAFT")
        let imported = try await engine.importPlan(bytes: PrettyJSON.bytes(draft.json), name: "draft.json")
        let v0 = imported.document.header["v_file_instance"]?.intValue ?? 1
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<8 {
                group.addTask {
                    let task: JSONObject = ["task_id": .string("X\(i)"), "title": .string("Extra \(i)"), "assigned_agent_persona": "WORKER",
                                            "authorized_agent_archetypes": [], "max_retries": 0, "dependencies": [], "inputs": [], "outputs": [],
                                            "execution_checklist": [], "criticality": "LOW", "notes": ""]
                    _ = try await engine.addTask("EP-DRAFT", task: task)
                }
            }
            try await group.waitForAll()
        }
        let now = try await engine.plan("EP-DRAFT")
        let ids = Set(try now.document.spec().tasks.map(\.id))
        try expect(ids == Set(["T1", "T2"] + (0..<8).map { "X\($0)" }), check, "the DRAFT holds \(ids.sorted()), not T1, T2 and X0–X7")
        let v1 = now.document.header["v_file_instance"]?.intValue ?? 1
        try expect(v1 == v0 + 8, check, "v_file_instance went from \(v0) to \(v1) over 8 edits")
        try await expectError(.conflict, check, "an edit based on the first version") {
            _ = try await engine.editDraft("EP-DRAFT", expectedVersion: v0) { _, _ in }
        }
    }

    /// A worker's key rotated while its plan is live: `key_changed` is recorded, the new key
    /// signs, the old one is refused, and the journal verifies with both.
    public static func keyRotation(_ s: Storage) async throws {
        let check = "key rotation on a live plan"
        let engine = LogbookEngine(storage: s)
        let file = try await lockedPlan(engine)
        let oldKey = try await engine.signingKey(for: "WORKER")
        let book = try await engine.book(file)
        _ = try await book.submit(EventRequest(type: .started, task: "T1", persona: "WORKER"), signer: oldKey)
        let rotation = try await engine.rotateKey("WORKER", supervisor: "SUPERVISOR", signer: try await engine.signingKey(for: "SUPERVISOR"))
        try expect(rotation.events.count == 1 && rotation.events[0].event.type == .keyChanged, check, "the rotation recorded \(rotation.events.map(\.event.type.rawValue))")
        let newKey = try await engine.signingKey(for: "WORKER")
        try expect(newKey.publicKey != oldKey.publicKey && newKey.publicKey.keyID == rotation.newKeyID, check, "the signer source does not lend the new key")
        _ = try await book.submit(EventRequest(type: .progress, task: "T1", persona: "WORKER", data: ["percent": 10]), signer: newKey)
        try await expectError(.badSignature, check, "a write signed with the retired key") {
            _ = try await book.submit(EventRequest(type: .progress, task: "T1", persona: "WORKER", data: ["percent": 20]), signer: oldKey)
        }
        let report = try await engine.verify(file)
        try expect(report.ok, check, "verify after the rotation: \(report.failure?.description ?? "")")
    }

    /// A checkpoint is stored as an artifact; an inclusion proof and a consistency proof built
    /// from the journal verify; a checkpoint of another root at a stored size is refused.
    public static func checkpointsAndProofs(_ s: Storage) async throws {
        let check = "checkpoints and proofs"
        let engine = LogbookEngine(storage: s)
        let file = try await lockedPlan(engine)
        let sup = try await engine.signingKey(for: "SUPERVISOR")
        try await finishTasks(engine, file)
        let first = try await engine.writeCheckpoint(file, signers: [sup])
        try expect(first.size == 7, check, "the checkpoint covers \(first.size) events, not 7")
        try expect(try await engine.latestCheckpoint(file) == first, check, "the latest stored checkpoint is not the one written")
        let proof = try await engine.inclusionProof(file, seq: 3)
        try expect(proof.seq == 3 && proof.treeSize == 7, check, "the inclusion proof is for seq \(proof.seq) in a tree of \(proof.treeSize)")
        _ = try await engine.book(file).submit(EventRequest(type: .achievement, task: "T2", persona: "WORKER", data: ["summary": "more"]),
                                               signer: try await engine.signingKey(for: "WORKER"))
        let second = try await engine.writeCheckpoint(file, signers: [sup])
        let consistency = try await engine.consistencyProof(file, from: first, to: second)
        try expect(consistency.old.size == 7 && consistency.new.size == 8, check, "the consistency proof spans \(consistency.old.size)→\(consistency.new.size)")
        let sizes = await engine.storedCheckpointSizes(file)
        try expect(sizes == [7, 8], check, "stored checkpoint sizes \(sizes), not [7, 8]")
        let report = try await engine.verify(file)
        try expect(report.ok && report.checkpoint?.size == 8, check, "verify against the latest checkpoint: \(report.failure?.description ?? "checked \(report.checkpoint?.size ?? -1)")")
    }
}
