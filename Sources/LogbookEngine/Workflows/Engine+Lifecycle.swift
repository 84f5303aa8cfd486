import Foundation
import LogbookCore

/// Validate → freeze → report → archive (SPEC §7).
extension LogbookEngine {
    public struct ValidationOutcome: Sendable {
        public var verdict: String
        public var criteria: [Criterion]
        public var event: Event
    }

    /// Records `validation_started` (if not yet), evaluates the criteria (tasks, tests, blockers,
    /// retries, a full verify) and records `validated` with the verdict.
    ///
    /// The journal is verified once, before anything is written: one that does not verify is
    /// refused (`.corrupt`, naming the finding's seq and kind) and nothing is written.
    ///
    /// - Parameters:
    ///   - verdict: PASS, FAIL or PASS_WITH_REMEDIATION; default PASS when every criterion is
    ///     met, else FAIL.
    ///   - overrideReason: needed to record PASS against failing criteria; logged as a
    ///     plan-level `lock_override` (rule validation_criteria).
    public func validate(_ file: PlanFile, persona: String, signer: SigningKey?, verdict: String? = nil,
                         note: String? = nil, overrideReason: String? = nil) async throws -> ValidationOutcome {
        if let verdict, !["PASS", "FAIL", "PASS_WITH_REMEDIATION"].contains(verdict) {
            throw LogbookError(.badInput, "verdict must be PASS, FAIL or PASS_WITH_REMEDIATION, not \(verdict)")
        }
        let book = try await self.book(file)
        var state = try await book.state()
        guard state.personas[persona]?.role == .supervisor else {
            throw LogbookError(.forbidden, "only a supervisor may validate; \(persona) is not a supervisor of this plan", plan: file.id, rule: "supervisor_only")
        }
        let verified = try await verifiedOrRefuse(file, act: "validate")
        let verifyCriterion = ValidationCriteria.verify(ok: true, events: verified.events, failure: nil)
        // A PASS that would be refused is refused before anything is written.
        if verdict == "PASS", overrideReason?.isEmpty ?? true, !state.planOverrides.contains("validation_criteria") {
            let failing = ValidationCriteria.fromState(state).filter { !$0.pass }
            if !failing.isEmpty {
                throw LogbookError(.refused, "PASS against failing criteria (\(failing.map { "\($0.name): \($0.actual)" }.joined(separator: "; "))) needs --override-reason", plan: file.id, rule: "validation_criteria")
            }
        }
        if state.lifecycle == .active {
            _ = try await book.submit(EventRequest(type: .validationStarted, task: nil, persona: persona), signer: signer)
            state = try await book.state()
        }
        var criteria = ValidationCriteria.fromState(state)
        criteria.append(verifyCriterion)
        let failing = criteria.filter { !$0.pass }
        let chosen = verdict ?? (failing.isEmpty ? "PASS" : "FAIL")
        if chosen == "PASS", !failing.isEmpty {
            guard let overrideReason, !overrideReason.isEmpty else {
                throw LogbookError(.refused, "PASS against failing criteria (\(failing.map(\.name).joined(separator: ", "))) needs --override-reason", plan: file.id, rule: "validation_criteria")
            }
            if !state.planOverrides.contains("validation_criteria") {
                _ = try await book.submit(EventRequest(type: .lockOverride, task: nil, persona: persona,
                                                       data: ["rule": "validation_criteria", "reason": .string(overrideReason)]), signer: signer)
            }
        }
        var data: JSONObject = ["verdict": .string(chosen), "criteria": .array(criteria.map(\.json))]
        if let note { data["note"] = .string(note) }
        if let overrideReason, chosen == "PASS", !failing.isEmpty { data["override_reason"] = .string(overrideReason) }
        let e = try await book.submit(EventRequest(type: .validated, task: nil, persona: persona, data: data), signer: signer)
        return ValidationOutcome(verdict: chosen, criteria: criteria, event: e)
    }

    /// The names of the Validation Report's two documents (files: `validation_report_<g>.json` and `.md`).
    public func reportNames(_ file: PlanFile) -> (json: String, markdown: String) {
        (artifacts.name(of: .reportJSON, file.journalRef), artifacts.name(of: .reportMarkdown, file.journalRef))
    }

    /// Records `frozen` with the final head, writes the snapshot, a checkpoint signed by the
    /// supervisor (covering the `frozen` event) and the Validation Report (JSON + Markdown).
    /// From then on every write to the status is refused but `archived`.
    ///
    /// Checks first, then writes: the supervisor, a current verdict (one that no task event has
    /// made stale), and one full `verify`. A journal that does not verify is refused (`.corrupt`,
    /// naming the finding's seq and kind) and nothing is written. `frozen` records the head
    /// `verify` accepted; if another event was appended meanwhile, the step is refused (conflict).
    ///
    /// Resumable: on a status that is already frozen (and verifies) it writes whatever of
    /// snapshot, checkpoint and report a crash left unwritten, and returns the recorded `frozen` event.
    public func freeze(_ file: PlanFile, persona: String, signer: SigningKey?) async throws -> (Event, JSONValue) {
        let book = try await self.book(file)
        let state = try await book.state()
        try requireSupervisor(state, persona, file, act: "freeze")
        switch state.lifecycle {
        case .archived:
            throw LogbookError(.refused, "plan \(file.id) is already archived (frozen at seq \(state.frozenSeq ?? 0))", plan: file.id, rule: "lifecycle")
        case .active:
            throw LogbookError(.refused, "the status is ACTIVE: validate it first (`logbook validate`)", plan: file.id, rule: "lifecycle")
        case .validating where state.verdict == nil:
            let stale = (state.eventCounts[EventType.validated.rawValue] ?? 0) > 0
            throw LogbookError(.refused, stale
                ? "the verdict is stale: task events were recorded after the last `validated`; run `logbook validate` again before freezing"
                : "no verdict yet: run `logbook validate` first", plan: file.id, rule: "lifecycle")
        case .validating, .frozen:
            break
        }
        let verified = try await verifiedOrRefuse(file, act: "freeze")
        var replay = try await replayVerified(file, verified)
        let e: Event
        if let frozen = replay.atFrozen {
            e = try await book.event(at: frozen.state.seq)
        } else {
            do {
                e = try await recordOnce(book, EventRequest(type: .frozen, task: nil, persona: persona,
                                                             data: ["head": JSONValue(verified.head?.description), "final_seq": JSONValue(verified.lastSeq)]),
                                         signer: signer, done: .frozen)
            } catch let error as LogbookError where error.code == .refused {
                let now = try await book.state()
                guard now.seq == verified.lastSeq else {
                    throw LogbookError(.conflict, "events were recorded while freeze verified the journal (seq \(verified.lastSeq), now seq \(now.seq)); nothing was written; run `logbook freeze` again",
                                       plan: file.id, rule: "lifecycle")
                }
                throw error
            }
            try await extendReplay(&replay, file)
        }
        guard let frozen = replay.atFrozen else {
            throw LogbookError(.corrupt, "the `frozen` event at seq \(e.seq) is not in the journal after recording it; run `logbook verify`", plan: file.id, seq: e.seq)
        }
        try await book.writeSnapshot(sealedBy: signer)
        if let signer, await latestCheckpointSize(file) < frozen.state.seq + 1 {
            try await storeVerifiedCheckpoint(file, tree: frozen.tree, state: frozen.state, signer: signer)
        }
        let report = try await writeReport(file, try await validationReport(file, replay))
        return (e, report)
    }

    /// The tree size of the latest stored checkpoint (0 if none).
    func latestCheckpointSize(_ file: PlanFile) async -> Int {
        ((try? await latestCheckpoint(file)) ?? nil)?.size ?? 0
    }

    func requireSupervisor(_ state: StatusState, _ persona: String, _ file: PlanFile, act: String) throws {
        guard state.personas[persona]?.role == .supervisor else {
            throw LogbookError(.forbidden, "only a supervisor may \(act); \(persona) is not a supervisor of this plan", plan: file.id, rule: "supervisor_only")
        }
    }

    /// Rebuilds the report from the journal (up to the `frozen` event) and writes both files.
    @discardableResult
    public func writeReport(_ file: PlanFile) async throws -> JSONValue {
        try await writeReport(file, try await buildReport(file))
    }

    /// The report as the journal determines it: replay, statistics and verification of the
    /// journal up to and including the `frozen` event. Deterministic.
    ///
    /// - Throws: `.corrupt` when the journal does not verify (a report is never built from one).
    public func buildReport(_ file: PlanFile) async throws -> JSONValue {
        let verified = try await verifiedOrRefuse(file, act: "build the Validation Report")
        return try await validationReport(file, try await replayVerified(file, verified))
    }

    /// Proves the report file matches its journal: rebuilt report equal byte for byte, own hash valid.
    public func checkReport(_ file: PlanFile) async throws -> (ok: Bool, message: String) {
        let json = reportNames(file).json
        guard let bytes = try await artifacts.load(.reportJSON, of: file.journalRef) else {
            throw LogbookError(.notFound, "no report \(json); freeze the plan first", plan: file.id)
        }
        let stored: JSONValue
        // A synchronous Result: a typed-throws catch in an async function crashes swiftc 6.3.1.
        switch Result(catching: { () throws(JSONParseError) -> JSONValue in try JSONParser.parse(bytes) }) {
        case .success(let v): stored = v
        case .failure(let e): return (false, "\(json) is not valid JSON: \(e)")
        }
        guard ValidationReport.hashIsValid(stored) else { return (false, "the report's report_hash does not match its content (the report was edited)") }
        // One verify: the check fails whenever `verify` fails. A report whose head disagrees with
        // the journal (report_mismatch) is named by the comparison below.
        let verified = try await verify(file)
        if let f = verified.failure, f.kind != .reportMismatch {
            return (false, "the journal does not verify (\(f.description)); a report cannot match it")
        }
        let rebuilt = try await validationReport(file, try await replayVerified(file, verified))
        if let difference = try await reportDifference(file, rebuilt: rebuilt) { return (false, difference) }
        if let f = verified.failure { return (false, "the journal does not verify (\(f.description))") }
        return (true, "report \(stored["report_hash"]?.stringValue ?? "") matches the journal (verdict \(stored["verdict"]?.stringValue ?? "-"), head \(stored["final_head_hash"]?.stringValue ?? "-"))")
    }
}

extension LogbookEngine {
    /// How the stored report files differ from `rebuilt` (the report the journal gives), or nil
    /// when the JSON file is byte for byte the rebuilt report and the Markdown file (if any) its
    /// rendering.
    func reportDifference(_ file: PlanFile, rebuilt: JSONValue) async throws -> String? {
        let (json, md) = reportNames(file)
        guard let bytes = try await artifacts.load(.reportJSON, of: file.journalRef) else { return "\(json) is missing" }
        guard let stored = try? JSONParser.parse(bytes) else { return "\(json) is not valid JSON" }
        guard rebuilt == stored, PrettyJSON.bytes(rebuilt) == bytes else {
            let diff = (rebuilt.objectValue?.keys ?? []).first { rebuilt[$0] != stored[$0] } ?? "?"
            return "the report differs from what the journal gives (first difference: \(diff))"
        }
        if let stored = try await artifacts.load(.reportMarkdown, of: file.journalRef), stored != Array(ValidationReport.markdown(rebuilt).utf8) {
            return "\(md) differs from the JSON report"
        }
        return nil
    }

    /// For a frozen status whose Validation Report exists: whether the journal's `frozen` event
    /// is still the head the report records (SPEC §9). Nil when they agree or there is no report.
    func frozenHeadMismatch(_ file: PlanFile, report: VerifyReport) async throws -> (seq: Int, message: String)? {
        let (json, _) = reportNames(file)
        guard let bytes = try await artifacts.load(.reportJSON, of: file.journalRef) else { return nil }
        guard let stored = try? JSONParser.parse(bytes),
              let seq = stored["final_seq"]?.intValue, let head = stored["final_head_hash"]?.stringValue else {
            return (report.lastSeq, "\(json) is not a readable Validation Report (no final_seq / final_head_hash)")
        }
        guard seq <= report.lastSeq else {
            return (report.lastSeq, "the Validation Report records the frozen head at seq \(seq), but the journal ends at seq \(report.lastSeq)")
        }
        var found: Event?
        try await journals.forEachLine(file.journalRef) { line in
            guard found == nil, let e = try? Event(line: line.bytes), e.seq == seq else { return }
            found = e
        }
        guard let e = found, e.type == .frozen, e.hash.description == head else {
            return (seq, "the journal's event at seq \(seq) is \(found.map { "\($0.type.rawValue) \($0.hash)" } ?? "missing"), the Validation Report records frozen \(head)")
        }
        return nil
    }
}
