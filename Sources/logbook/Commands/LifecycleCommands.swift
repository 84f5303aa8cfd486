import ArgumentParser
import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore

/// `logbook validate`: a supervisor evaluates the criteria and records a verdict.
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Evaluate the validation criteria and record a verdict (supervisor only).",
        discussion: """
            Verifies the journal once first: one that does not verify is refused (exit 6, naming \
            the seq and kind) and nothing is written. Records validation_started, then checks: \
            every task DONE or WAIVED, no failing tests in the latest results, no open blockers, \
            retries within their limits (a supervisor's max_retries override counts as allowed), \
            and the verify. Records validated with the verdict and each criterion (expected / \
            actual / pass). The verdict defaults to PASS when every criterion is met, else FAIL. \
            PASS against failing criteria needs --override-reason, logged as a lock_override. \
            A task event after the verdict makes it stale: freeze waits for a new validate.
            """)
    @Argument(help: "Plan id (default: the live plan).") var planArgument: String?
    @Option(help: "Plan id.") var plan: String?
    @OptionGroup var who: PersonaOptions
    @Option(help: "PASS, FAIL or PASS_WITH_REMEDIATION (default: PASS if every criterion is met, else FAIL).") var verdict: String?
    @Option(help: "A note recorded with the verdict (≤ 8 KiB).") var note: String?
    @Option(name: .customLong("override-reason"), help: "Why PASS stands against failing criteria (recorded as a lock_override).")
    var overrideReason: String?
    @Flag(help: "Print the recorded event (JSON).") var json = false
    @OptionGroup var ws: WorkspaceOptions

    func run() async throws {
        let w = try ws.open()
        let file = try await w.plan(argument: planArgument, option: plan)
        let persona = try who.resolvedPersona()
        let outcome = try await w.validate(file, persona: persona, signer: try await who.signer(in: w, persona: persona),
                                           verdict: verdict?.uppercased(), note: note, overrideReason: overrideReason)
        if json {
            print(CanonicalJSON.string(outcome.event.json))
            return
        }
        print(LifecycleText.criteria(outcome.criteria), terminator: "")
        print("validated plan \(file.id): verdict \(outcome.verdict) (seq \(outcome.event.seq)); next: `logbook freeze --persona \(persona)`")
    }
}

/// `logbook freeze`: no more events; the Validation Report is written.
struct FreezeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "freeze",
        abstract: "Freeze a validated status: record the final head, write a checkpoint and the Validation Report.",
        discussion: """
            Needs a current verdict (no task event since the last validate) and verifies the \
            journal once first: one that does not verify is refused (exit 6, naming the seq and \
            kind) and nothing is written. After freeze every write to the status is refused (but \
            archive). Writes validation_report_<g>.json (hashed; `logbook report --check` proves \
            it matches the journal) and validation_report_<g>.md. Running it again on a frozen \
            status writes whatever a crash left unwritten.
            """)
    @Argument(help: "Plan id (default: the live plan).") var planArgument: String?
    @Option(help: "Plan id.") var plan: String?
    @OptionGroup var who: PersonaOptions
    @OptionGroup var ws: WorkspaceOptions

    func run() async throws {
        let w = try ws.open()
        let file = try await w.plan(argument: planArgument, option: plan)
        let persona = try who.resolvedPersona()
        let (e, report) = try await w.freeze(file, persona: persona, signer: try await who.signer(in: w, persona: persona))
        let (json, md) = w.reportNames(file)
        print("froze plan \(file.id) at seq \(e.seq) (head \(e.hash)); verdict \(report["verdict"]?.stringValue ?? "-")")
        print("wrote \(json) (report_hash \(report["report_hash"]?.stringValue ?? "")) and \(md)")
    }
}

/// `logbook report`: show or check the Validation Report.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print a frozen plan's Validation Report, or --check that it matches its journal.")
    @Argument(help: "Plan id (default: the live plan).") var planArgument: String?
    @Option(help: "Plan id.") var plan: String?
    @Flag(help: "Verify the journal, rebuild the report from it and compare it byte for byte with the stored one (exit 6 if verify fails or they differ).") var check = false
    @Flag(help: "Print the JSON report instead of the Markdown one.") var json = false
    @OptionGroup var ws: WorkspaceOptions

    func run() async throws {
        let w = try ws.open()
        let file = try await w.plan(argument: planArgument, option: plan)
        if check {
            let (ok, message) = try await w.checkReport(file)
            guard ok else {
                FileHandle.standardError.write(Data("report check FAILED: plan \(file.id): \(SafeText.escape(message))\n".utf8))
                throw VerificationFailed(plan: file.id, failure: .init(seq: nil, kind: .reportMismatch, message: message))
            }
            print("report OK: plan \(file.id): \(message)")
            return
        }
        let artifact: Artifact = json ? .reportJSON : .reportMarkdown
        guard let data = try await w.artifacts.load(artifact, of: file.journalRef) else {
            throw LogbookError(.notFound, "plan \(file.id) has no Validation Report (\(w.artifacts.name(of: artifact, file.journalRef))); it is written by `logbook freeze`", plan: file.id)
        }
        FileHandle.standardOutput.write(Data(data))
    }
}

/// `logbook archive`: compress, make read-only, move state.txt on.
struct ArchiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "archive",
        abstract: "Archive a frozen plan: record archived, compress the journal, make its files read-only, move state.txt on.",
        discussion: """
            Verifies the journal once first (and that the Validation Report is the one the journal \
            gives): otherwise exit 6 and nothing is written. state.txt then points at the next \
            locked plan still ACTIVE (lowest g) or --next, or at null, and g advances; the change is \
            refused if state.txt changed since the command began (v_file_instance). Running it \
            again finishes what a crash interrupted.
            """)
    @Argument(help: "Plan id (default: the live plan).") var planArgument: String?
    @Option(help: "Plan id.") var plan: String?
    @Option(help: ArgumentHelp("Plan the state should point at next.", valueName: "id")) var next: String?
    @OptionGroup var who: PersonaOptions
    @OptionGroup var ws: WorkspaceOptions

    func run() async throws {
        let w = try ws.open()
        let file = try await w.plan(argument: planArgument, option: plan)
        let persona = try who.resolvedPersona()
        if let next { try Identifier.check(next, "plan id") }
        let o = try await w.archive(file, persona: persona, signer: try await who.signer(in: w, persona: persona), next: next)
        let bytes = o.segmentBytes
        print("archived plan \(file.id) (seq \(o.event.seq)): \(o.segments) gzip segment(s) hold \(bytes) bytes of journal; \(o.readOnly.count) files read-only")
        if o.movedState {
            print("state.txt: g \(o.g), live status \(o.nextStatus ?? "none")")
        } else {
            print("state.txt unchanged (it points at \(o.nextStatus ?? "none"))")
        }
    }
}

enum LifecycleText {
    static func criteria(_ cs: [Criterion]) -> String {
        let w0 = max(9, cs.map(\.name.count).max() ?? 0)
        let w1 = max(8, cs.map(\.expected.count).max() ?? 0)
        func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
        var out = "\(pad("criterion", w0))  \(pad("expected", w1))  pass  actual\n"
        for c in cs { out += "\(pad(c.name, w0))  \(pad(c.expected, w1))  \(c.pass ? "yes " : "NO  ")  \(c.actual)\n" }
        return out
    }
}
