import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Testing

/// `logbook migrate` on the legacy corpus in Resources/legacy (SPEC §8, docs/MIGRATION.md):
/// clean locked plans, `migrated` genesis events that lose no field, statuses in the snapshot,
/// verify, idempotency, dry runs, broken files named with line and column.
@Suite("Migration (workspace and CLI)")
struct MigrationTests {
    static let corpus = Bundle.module.url(forResource: "Resources", withExtension: nil)!.appendingPathComponent("legacy").path
    static let flat = ["flat_01_ingest.json", "flat_02_review.json", "flat_03_mixed.json"]
    static let haios = ["haios_01_construct.json", "haios_02_failed.json", "haios_03_completed.json"]
    static let good = flat + haios
    static let broken = ["broken_placeholder.json", "broken_trailing_comma.json", "broken_truncated.json", "broken_duplicate_task_ids.json"]
    static let planIDs = ["LEGACY-FLAT-001", "LEGACY-FLAT-002", "LEGACY-FLAT-003", "EP-HAIOS-125", "EP-HAIOS-FAILED", "EP-HAIOS-DONE"]

    /// A workspace with the corpus' personas, and a copy of the corpus outside it.
    struct Fixture {
        let ws: Workspace
        let sources: String

        init(_ name: String) async throws {
            ws = try Workspace.create(at: TestSupport.tempDirectory(name))
            try await ws.engine.addPersona("SUPERVISOR", role: .supervisor)
            try await ws.engine.addPersona("CODING_ASSISTANT", role: .worker, archetype: "IMPLEMENTER")
            try await ws.engine.addPersona("TEST_RUNNER", role: .worker, archetype: "TESTER")
            try await ws.engine.addPersona("DOC_WRITER", role: .worker, archetype: "WRITER")
            sources = TestSupport.tempDirectory(name + "-legacy")
            for f in try FileManager.default.contentsOfDirectory(atPath: MigrationTests.corpus) {
                try FileManager.default.copyItem(atPath: MigrationTests.corpus + "/" + f, toPath: sources + "/" + f)
            }
        }

        func path(_ file: String) -> String { sources + "/" + file }

        @discardableResult
        func cli(_ args: [String]) throws -> TestSupport.Run {
            try TestSupport.logbook(args + ["--workspace", ws.root])
        }

        func migrate(_ files: [String], _ extra: [String] = []) throws -> TestSupport.Run {
            try cli(["migrate"] + files.map(path) + ["--persona", "SUPERVISOR", "--default-persona", "CODING_ASSISTANT",
                                                   "--state", path("state.txt")] + extra)
        }

        /// Every file in the workspace, keys/ and migrated/ (lock files, which exist only to be
        /// locked, left out).
        func bytes() -> [String: [UInt8]] {
            var files: [String: [UInt8]] = [:]
            for dir in ["", "keys/", "migrated/"] {
                for name in (try? FileManager.default.contentsOfDirectory(atPath: ws.root + "/" + dir)) ?? [] where !name.hasSuffix(".lock") {
                    var isDir: ObjCBool = false
                    let path = ws.root + "/" + dir + name
                    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else { continue }
                    files[dir + name] = TestSupport.bytes(path)
                }
            }
            return files
        }

        func genesis(_ plan: PlanFile) async throws -> Event {
            let first = try await ws.store.read(plan.journalRef, from: 0, limit: 1)
            return try Event(line: try #require(first.first).bytes)
        }

        func snapshot(_ plan: String) throws -> JSONValue {
            let r = try cli(["status", plan, "--json"])
            #expect(r.status == 0, "status \(plan): \(r.stderr)")
            return try JSONParser.parse(r.stdout)
        }
    }

    static func taskStatus(_ snap: JSONValue, _ id: String) -> JSONValue? {
        snap["payload"]?["tasks_status"]?.arrayValue?.first { $0["task_id_ref"]?.stringValue == id }
    }

    // MARK: - The corpus migrates, verifies and shows its legacy statuses

    @Test("the corpus migrates: locked clean plans, statuses in `status --json`, verify passes")
    func corpusMigrates() async throws {
        let f = try await Fixture("mig-corpus")
        let sourcesBefore = Self.good.map { TestSupport.bytes(f.path($0)) }
        let r = try f.migrate(Self.good)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty, "\(r.stderr)")
        for (file, id) in zip(Self.good, Self.planIDs) {
            #expect(r.stdout.contains("\(f.path(file)): migrated") && r.stdout.contains(id), "\(file)")
        }
        // The sources are untouched; their bytes are kept in migrated/.
        #expect(Self.good.map { TestSupport.bytes(f.path($0)) } == sourcesBefore)
        let plans = try await f.ws.engine.listPlans()
        #expect(plans.map(\.id) == Self.planIDs)
        for (p, source) in zip(plans, sourcesBefore) {
            #expect(p.document.isLocked)
            #expect(TestSupport.bytes(f.ws.migrationBackupPath(g: p.g)) == source)
            #expect(p.document.header["migrated_from_sha256"] == .string(Digest256.of(source).description))
            let v = try f.cli(["verify", p.id])
            #expect(v.status == 0, "verify \(p.id): \(v.stdout) \(v.stderr)")
            // No live field anywhere in the clean plan.
            for (path, value) in p.document.json.leaves() {
                for c in path.components {
                    if case .key(let k) = c {
                        #expect(!["status", "percent_complete", "retry_attempts_log", "test_results", "g_last_update",
                                  "execution_type"].contains(k), "\(p.id): \(path)")
                        // v5.4 has the plan's final statuses; the clean plan leaves them null (the live ones are in the status).
                        if ["final_execution_status", "final_validation_status"].contains(k) { #expect(value == .null, "\(p.id): \(path)") }
                    }
                }
            }
            let g = try await f.genesis(p)
            #expect(g.type == .migrated && g.sig != nil && g.persona == "SUPERVISOR")
        }
        // state.txt points at the last migrated status, none being live before.
        let state = try f.ws.readState()
        #expect(state.currentStatusID == "exec_status_\(plans.last!.g)")
        #expect(state.g == plans.last!.g + 1)

        // Statuses as the legacy plans had them.
        let f1 = try f.snapshot("LEGACY-FLAT-001")
        #expect(Self.taskStatus(f1, "F1-T1")?["status"] == "DONE")
        #expect(Self.taskStatus(f1, "F1-T1")?["percent_complete"] == 100)
        #expect(Self.taskStatus(f1, "F1-T2")?["status"] == "IN_PROGRESS")
        #expect(Self.taskStatus(f1, "F1-T3")?["status"] == "PENDING")
        #expect(Self.taskStatus(f1, "F1-T2")?["legacy"]?["execution_checklist"] == [
            ["index": 0, "item_id": "C1", "status": "DONE"], ["index": 1, "item_id": "C2", "status": "IN_PROGRESS"],
            ["index": 2, "item_id": "C3", "status": "PENDING"],
        ])
        #expect(f1["payload"]?["migrated_from"]?["status"] == "IN_PROGRESS")
        #expect(f1["payload"]?["migrated_from"]?["source_file"] == "flat_01_ingest.json")

        let f2 = try f.snapshot("LEGACY-FLAT-002")
        #expect(Self.taskStatus(f2, "F2-T2")?["status"] == "FAILED")
        #expect(Self.taskStatus(f2, "F2-T2")?["retry_attempts_used"] == 3)  // rt F2-T2: 3 beats retries: 1
        #expect(Self.taskStatus(f2, "F2-T3")?["status"] == "BLOCKED")
        #expect(Self.taskStatus(f2, "F2-T3")?["blocker"]?["reason"] == "fuzzing must pass first")
        #expect(Self.taskStatus(f2, "F2-T4")?["status"] == "PENDING")
        #expect(Self.taskStatus(f2, "F2-T4")?["legacy"]?["original_status"] == "awaiting-signoff")
        #expect(f2["payload"]?["overall_status_summary"]?["active_blockers_summary"]?.arrayValue?.count == 1)

        let f3 = try f.snapshot("LEGACY-FLAT-003")
        #expect(Self.taskStatus(f3, "F3-T1")?["status"] == "DONE")
        #expect(Self.taskStatus(f3, "F3-T2")?["status"] == "IN_PROGRESS")
        #expect(Self.taskStatus(f3, "F3-T2")?["percent_complete"] == 40)
        #expect(Self.taskStatus(f3, "F3-T3")?["status"] == "WAIVED")

        let h1 = try f.snapshot("EP-HAIOS-125")
        #expect(Self.taskStatus(h1, "H1-T1")?["status"] == "DONE")
        #expect(Self.taskStatus(h1, "H1-T2")?["status"] == "IN_PROGRESS")
        #expect(Self.taskStatus(h1, "H1-T2")?["percent_complete"] == 60)
        #expect(Self.taskStatus(h1, "H1-T2")?["retry_attempts_used"] == 2)  // rt 2 beats one log entry
        #expect(Self.taskStatus(h1, "H1-T2")?["test_results_by_suite"]?["integration"]?["failed"] == 2)
        #expect(h1["payload"]?["overall_status_summary"]?["overall_completion_percentage"] == .number(((100 + 60 + 0) as Double / 3 * 100).rounded() / 100))

        let h2 = try f.snapshot("EP-HAIOS-FAILED")
        #expect(Self.taskStatus(h2, "H2-T1")?["status"] == "FAILED")
        #expect(Self.taskStatus(h2, "H2-T1")?["retry_attempts_used"] == 2)  // plan-scoped rt
        #expect(Self.taskStatus(h2, "H2-T2")?["blocker"]?["reason"] == "dual-write must work first")
        #expect(h2["payload"]?["migrated_from"]?["final_execution_status"] == "FAILED")
        #expect(h2["payload"]?["migrated_from"]?["final_validation_status"] == "NOT_VALIDATED")

        let h3 = try f.snapshot("EP-HAIOS-DONE")
        #expect(h3["payload"]?["overall_status_summary"]?["overall_completion_percentage"] == 100)
        #expect(h3["payload"]?["overall_status_summary"]?["tests_passed"] == 244)
        #expect(h3["payload"]?["migrated_from"]?["final_validation_status"] == "PASS")
    }

    // MARK: - Nothing lost

    /// Every leaf of the source is in the clean plan (same path, or where `legacy_moves` says) or in
    /// the genesis' `legacy_state` (at its path or an ancestor's), with the same value.
    static func lostLeaves(source: JSONValue, plan: JSONValue, genesisData: JSONObject) -> [String] {
        var legacy: [JSONPath: JSONValue] = [:]
        for (k, v) in genesisData["legacy_state"]?.objectValue ?? JSONObject() {
            guard let p = JSONPath(k) else { return ["legacy_state key \(k) is not a path"] }
            legacy[p] = v
        }
        var moves: [JSONPath: JSONPath] = [:]
        for (k, v) in genesisData["legacy_moves"]?.objectValue ?? JSONObject() {
            guard let from = JSONPath(k), let to = v.stringValue.flatMap(JSONPath.init) else { return ["legacy_moves \(k) is not a path pair"] }
            moves[from] = to
        }
        var lost: [String] = []
        for (p, v) in source.leaves() {
            if let a = p.selfAndAncestors.first(where: { legacy[$0] != nil }) {
                if legacy[a]!.value(at: JSONPath(Array(p.components.dropFirst(a.components.count)))) != v {
                    lost.append("\(p): legacy_state[\(a)] holds another value")
                }
                continue
            }
            var target = p
            if let a = p.selfAndAncestors.first(where: { moves[$0] != nil }) {
                target = moves[a]!.appending(JSONPath(Array(p.components.dropFirst(a.components.count))))
            }
            // The v5.4 lists (scope_summary, exclusions_summary, notes) hold a legacy string as a
            // one-element list, an empty string as an empty list.
            let asList: JSONValue? = v.stringValue.map { .array($0.isEmpty ? [] : [v]) }
            let isList = ["scope_summary", "exclusions_summary", "notes"].contains { target.components.last == .key($0) }
            if plan.value(at: target) != v, !(isList && plan.value(at: target) == asList) {
                lost.append("\(p) = \(CanonicalJSON.string(v)): neither at \(target) in the plan nor in legacy_state")
            }
        }
        return lost
    }

    @Test("no field of any corpus file is lost: each leaf is in the locked plan or in the genesis")
    func nothingLost() async throws {
        let f = try await Fixture("mig-lost")
        #expect(try f.migrate(Self.good).status == 0)
        let stateJSON = try JSONParser.parse(TestSupport.bytes(f.path("state.txt")))
        var legacyCount = 0
        for (file, p) in zip(Self.good, try await f.ws.engine.listPlans()) {
            let source = try JSONParser.parse(TestSupport.bytes(f.path(file)))
            let g = try await f.genesis(p)
            let lost = Self.lostLeaves(source: source, plan: p.document.json, genesisData: g.data)
            #expect(lost.isEmpty, "\(file): \(lost.joined(separator: "; "))")
            legacyCount += g.data["legacy_state"]?.objectValue?.count ?? 0
            // rt counters taken from state.txt are kept verbatim with their path.
            for (k, v) in g.data["legacy_state_file"]?.objectValue ?? JSONObject() {
                #expect(stateJSON.value(at: try #require(JSONPath(k))) == v, "\(file): \(k)")
            }
            #expect(g.data["migration"]?["source_sha256"] == .string(Digest256.of(TestSupport.bytes(f.path(file))).description))
        }
        #expect(legacyCount > 60)
    }

    // MARK: - Idempotency and dry runs

    @Test("running migrate twice changes nothing the second time, byte for byte, and says so")
    func idempotent() async throws {
        let f = try await Fixture("mig-idem")
        #expect(try f.migrate(Self.good).status == 0)
        let before = f.bytes()
        let again = try f.migrate(Self.good)
        #expect(again.status == 0, "\(again.stderr)")
        for file in Self.good {
            #expect(again.stdout.contains("\(f.path(file)): already migrated"), "\(again.stdout)")
        }
        #expect(again.stdout.contains("nothing changed"))
        let after = f.bytes()
        #expect(after.keys.sorted() == before.keys.sorted())
        #expect(after == before, "changed: \(Set(after.keys).filter { after[$0] != before[$0] }.sorted())")
    }

    @Test("--dry-run prints every field that moves, with path and value, and writes nothing")
    func dryRun() async throws {
        let f = try await Fixture("mig-dry")
        let before = f.bytes()
        let r = try f.migrate(Self.good, ["--dry-run"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(f.bytes() == before)
        #expect(!FileManager.default.fileExists(atPath: f.ws.migratedDirectory))
        let out = r.stdout
        #expect(out.contains("would write exec_plan_1.txt"))
        #expect(out.contains("    tasks[0].status = \"COMPLETED\"  (live state) → DONE"), "\(out)")
        #expect(out.contains("    tasks[1].execution_checklist[2].status = \"PENDING\"  (checklist item state)"))
        #expect(out.contains("    payload.tasks[1].retry_attempts_log = [{\"attempt\":1,\"g\":130,\"reason\":\"integration DB unavailable\"}]  (live state)"))
        #expect(out.contains("    payload.final_validation_status = \"PASS\"  (live state)"))
        #expect(out.contains("moved     plan_id → payload.execution_plan_id = \"LEGACY-FLAT-001\""))
        #expect(out.contains("state.txt:payload.rt[\"H1-T2\"] = 2  (rt retry counter)"))
        #expect(out.contains("default   payload.tasks[0].assigned_agent_persona = \"CODING_ASSISTANT\"  (--default-persona)"))
        #expect(out.hasSuffix("dry run: nothing written\n"))

        // What the dry run announced is what the real run writes.
        let real = try f.migrate(Self.good)
        #expect(real.status == 0)
        for (i, p) in try await f.ws.engine.listPlans().enumerated() {
            #expect(p.g == 1 + 2 * i)
            #expect(out.contains("would write exec_plan_\(p.g).txt (LOCKED, digest \(p.document.digest))"), "\(p.id)")
        }
    }

    // MARK: - Broken files

    @Test("broken files are named with line, column and token; the good ones in the same call migrate")
    func brokenFiles() async throws {
        let f = try await Fixture("mig-broken")
        let files = [Self.good[0]] + Self.broken + [Self.good[3]]
        let r = try f.migrate(files)
        #expect(r.status == 2, "\(r.stderr)")
        let lines = r.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == Self.broken.count + 1, "\(r.stderr)")
        func line(_ file: String) -> String { lines.first { $0.contains(file) } ?? "" }
        #expect(line("broken_placeholder.json") == "logbook: error: \(f.path("broken_placeholder.json")): not valid JSON at line 5, column 23: unexpected '<current_g>', expected a value; nothing written for this file")
        #expect(line("broken_trailing_comma.json").contains("not valid JSON at line 7, column 3: unexpected character ']', expected a value"))
        #expect(line("broken_truncated.json").contains("not valid JSON at line 5, column "))
        #expect(line("broken_truncated.json").contains("unterminated string"))
        #expect(line("broken_duplicate_task_ids.json").contains("tasks[2].task_id: duplicate task id D-T1 (first at tasks[0])"))
        #expect(lines.last == "logbook: error: 4 of 6 files failed to migrate (the other 2 migrated)")
        // The good ones migrated and verify; nothing exists for the broken ones.
        #expect(try await f.ws.engine.listPlans().map(\.id) == ["LEGACY-FLAT-001", "EP-HAIOS-125"])
        for id in ["LEGACY-FLAT-001", "EP-HAIOS-125"] { #expect(try f.cli(["verify", id]).status == 0) }
        let names = try FileManager.default.contentsOfDirectory(atPath: f.ws.root).filter { $0.hasPrefix("exec_") }
        #expect(names.count == 6, "\(names)")  // 2 plans, 2 journals, 2 snapshots
        #expect(try FileManager.default.contentsOfDirectory(atPath: f.ws.migratedDirectory).count == 4)  // source + state per plan
    }

    @Test("one broken file alone: one error line, exit 2, nothing written")
    func brokenAlone() async throws {
        let f = try await Fixture("mig-broken1")
        let before = f.bytes()
        let r = try f.cli(["migrate", f.path("broken_placeholder.json"), "--persona", "SUPERVISOR"])
        #expect(r.status == 2)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("broken_placeholder.json: not valid JSON at line 5, column 23: unexpected '<current_g>'"))
        #expect(r.stderr.hasSuffix("logbook: error: 1 of 1 file failed to migrate\n"))
        #expect(f.bytes() == before)
    }

    // MARK: - Refusals and recovery

    @Test("refused migrations write nothing: a worker persona, an unknown persona, a flat plan without --default-persona")
    func refusals() async throws {
        let f = try await Fixture("mig-refuse")
        let before = f.bytes()
        let worker = try f.cli(["migrate", f.path("haios_01_construct.json"), "--persona", "CODING_ASSISTANT"])
        #expect(worker.status == 3)
        #expect(worker.stderr.contains("only a supervisor"))
        let noDefault = try f.cli(["migrate", f.path("flat_01_ingest.json"), "--persona", "SUPERVISOR"])
        #expect(noDefault.status == 2)
        #expect(noDefault.stderr.contains("invalid legacy plan, tasks[0], tasks[1], tasks[2]: tasks F1-T1, F1-T2, F1-T3 name no persona"), "\(noDefault.stderr)")
        #expect(noDefault.stderr.contains("pass --default-persona P; nothing written for this file"))
        try FileManager.default.removeItem(atPath: f.ws.root + "/keys/DOC_WRITER.key")
        var personas = try await f.ws.engine.personas()
        personas.personas["DOC_WRITER"] = nil
        _ = FileManager.default.createFile(atPath: f.ws.personasPath, contents: Data(PrettyJSON.bytes(personas.json())))
        let before2 = f.bytes()
        let unknown = try f.cli(["migrate", f.path("haios_03_completed.json"), "--persona", "SUPERVISOR"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("payload.tasks[0].assigned_agent_persona") && unknown.stderr.contains("DOC_WRITER"), "\(unknown.stderr)")
        #expect(f.bytes() == before2)
        #expect(before.count == before2.count + 1)  // only the key removed by the test
    }

    @Test("the same plan id from other bytes is refused, not overwritten")
    func sameIDOtherBytes() async throws {
        let f = try await Fixture("mig-conflict")
        #expect(try f.migrate([Self.good[3]]).status == 0)
        let before = f.bytes()
        let edited = String(decoding: TestSupport.bytes(f.path(Self.good[3])), as: UTF8.self).replacingOccurrences(of: "\"percent_complete\": 60", with: "\"percent_complete\": 61")
        _ = FileManager.default.createFile(atPath: f.path("edited.json"), contents: Data(edited.utf8))
        let r = try f.cli(["migrate", f.path("edited.json"), "--persona", "SUPERVISOR"])
        #expect(r.status == 3)
        #expect(r.stderr.contains("plan EP-HAIOS-125 already exists as exec_plan_1.txt, migrated from other source bytes"), "\(r.stderr)")
        #expect(f.bytes() == before)
    }

    @Test("a migration interrupted after the plan file is completed by running it again")
    func resumeAfterCrash() async throws {
        let f = try await Fixture("mig-resume")
        let options = LogbookEngine.MigrateOptions(persona: "SUPERVISOR", signer: try await f.ws.engine.signingKey(for: "SUPERVISOR"))
        let first = try await TestSupport.migrate(f.ws, file: f.path(Self.good[4]), options: options)
        #expect(first.action == .migrated)
        // As if the process died after writing the plan: no journal, no snapshot, no pointer.
        try FileManager.default.removeItem(atPath: f.ws.root + "/" + first.journalPath)
        try FileManager.default.removeItem(atPath: f.ws.root + "/" + first.snapshotPath)
        // A new process: a fresh Workspace (the old one caches the deleted journal's handle).
        let ws = try Workspace.open(f.ws.root)
        let again = try await TestSupport.migrate(ws, file: f.path(Self.good[4]), options: options)
        #expect(again.action == .resumed)
        #expect(again.planG == first.planG)
        let v = try f.cli(["verify", "EP-HAIOS-FAILED"])
        #expect(v.status == 0, "\(v.stderr)")
        let third = try await TestSupport.migrate(ws, file: f.path(Self.good[4]), options: options)
        #expect(third.action == .alreadyMigrated)
    }

    @Test("agents carry on from the migrated state through the CLI, and verify still passes")
    func carryOn() async throws {
        let f = try await Fixture("mig-carry")
        #expect(try f.migrate([Self.good[0]]).status == 0)
        let w = ["--plan", "LEGACY-FLAT-001", "--persona", "CODING_ASSISTANT"]
        #expect(try f.cli(["task", "start", "F1-T1"] + w).status == 3)  // DONE stays DONE
        #expect(try f.cli(["task", "progress", "F1-T2", "--percent", "90"] + w).status == 0)
        #expect(try f.cli(["task", "done", "F1-T2"] + w).status == 0)
        let start = try f.cli(["task", "start", "F1-T3"] + w)
        #expect(start.status == 0, "\(start.stderr)")
        let v = try f.cli(["verify", "LEGACY-FLAT-001"])
        #expect(v.status == 0, "\(v.stderr)")
        let snap = try f.snapshot("LEGACY-FLAT-001")
        // The legacy view stays in the snapshot after later events.
        #expect(Self.taskStatus(snap, "F1-T1")?["legacy"]?["original_status"] == "COMPLETED")
        #expect(Self.taskStatus(snap, "F1-T2")?["status"] == "DONE")
    }
}
