import ArgumentParser
import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore

/// `logbook migrate FILE... --persona SUPERVISOR [--dry-run] [--state state.txt] [--default-persona P]`
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Split legacy plans that carry live state into a clean locked plan and a status journal.",
        discussion: """
            Each FILE (a flat legacy plan or a HAIOS v5.x plan with live fields) becomes a LOCKED \
            exec_plan_<g>.txt holding only its definition, and exec_status_<g>.journal whose genesis \
            is a signed `migrated` event carrying every removed value verbatim with its JSON path. \
            The source bytes are kept in migrated/exec_plan_<g>.premigration.bak; the source file \
            itself is not touched. Running it again on the same bytes changes nothing. A file that \
            fails (not JSON, invalid, missing persona) writes nothing; the others still migrate, and \
            the exit code is non-zero. See docs/MIGRATION.md.
            """)

    @Argument(help: ArgumentHelp("Legacy plan files.", valueName: "file")) var files: [String]
    @Flag(name: .customLong("dry-run"), help: "Print what would be written, field by field; write nothing.") var dryRun = false
    @Option(name: .customLong("state"), help: ArgumentHelp("A legacy state.txt whose rt retry counters (task id → count) to carry over.", valueName: "file"))
    var stateFile: String?
    @Option(name: .customLong("default-persona"), help: ArgumentHelp("Persona for tasks that name none.", valueName: "persona"))
    var defaultPersona: String?
    @OptionGroup var who: PersonaOptions
    @OptionGroup var ws: WorkspaceOptions

    /// The bytes of a legacy file named on the command line; `.notFound`/`.io` naming it.
    static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
                throw LogbookError(.io, "\(path): cannot read it\(isDir.boolValue ? " (it is a folder)" : "")")
            }
            throw LogbookError(.notFound, "\(path): cannot read it: no such file")
        }
        return Array(data)
    }

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("Name at least one legacy plan file.") }
    }

    func run() async throws {
        let w = try ws.open()
        let persona = try who.resolvedPersona()
        if let defaultPersona { try Identifier.check(defaultPersona, "--default-persona") }
        let signer = try await who.signer(in: w, persona: persona)
        var counters: LegacyRetryCounters?
        if let stateFile {
            guard let data = FileManager.default.contents(atPath: stateFile) else {
                throw LogbookError(.notFound, "cannot read the state file \(stateFile)")
            }
            counters = try LegacyRetryCounters(bytes: Array(data), name: Paths.name(stateFile))
        }
        var options = LogbookEngine.MigrateOptions(persona: persona, signer: signer, defaultPersona: defaultPersona,
                                               retryCounters: counters, dryRun: dryRun)
        var failures: [LogbookError] = []
        var done = 0, unchanged = 0
        for file in files {
            do {
                let o = try await w.migrate(bytes: try MigrateCommand.read(file), source: Paths.name(file), options: options)
                switch o.action {
                case .migrated, .resumed:
                    done += 1
                    options.replaceablePointers.insert("exec_status_\(o.planG)")
                case .alreadyMigrated:
                    unchanged += 1
                case .wouldMigrate:
                    done += 1
                    options.assumeG = o.gAfter
                }
                // Legacy files carry user text: every line escaped (SafeText), one line stays one line.
                let text = MigrationText.render(o, file: file, root: try ws.folder().root)
                print(text.split(separator: "\n", omittingEmptySubsequences: false).map { SafeText.escape(String($0)) }.joined(separator: "\n"), terminator: "")
            } catch {
                let e = error as? LogbookError ?? LogbookError(.io, "\(file): \(error)")
                // Name the file as the user gave it.
                let base = Paths.name(file)
                let line = e.description.hasPrefix(base + ":") ? file + e.description.dropFirst(base.count)
                    : e.description.hasPrefix(file) ? e.description : "\(file): \(e.description)"
                // With --json the failures go into the one error object at the end instead.
                if !ErrorReport.wantsJSON() {
                    FileHandle.standardError.write(Data("logbook: error: \(SafeText.escape(line)); nothing written for this file\n".utf8))
                }
                failures.append(e.withFile(file))
            }
        }
        if dryRun && failures.isEmpty { print("dry run: nothing written") }
        guard failures.isEmpty else {
            let code = failures.allSatisfy { $0.code == failures[0].code } ? failures[0].code : .badInput
            let others = files.count - failures.count
            let verb = dryRun ? "would migrate" : "migrated"
            throw LogbookError(code, "\(failures.count) of \(files.count) file\(files.count == 1 ? "" : "s") failed to migrate"
                + (others > 0 ? " (the other \(others) \(verb)\(unchanged > 0 ? " or were already migrated" : ""))" : ""),
                facts: ["failures": .array(failures.map { $0.json["error"] ?? .null })])
        }
    }
}

/// The text `migrate` prints for one file.
enum MigrationText {
    static func render(_ o: MigrationOutcome, file: String, root: String) -> String {
        let r = o.result
        let rel = { (p: String) in p.hasPrefix(root + "/") ? String(p.dropFirst(root.count + 1)) : p }
        var out = ""
        switch o.action {
        case .alreadyMigrated:
            return "\(file): already migrated as plan \(r.planID) (\(rel(o.planPath)), same source \(r.sourceDigest)); nothing changed\n"
        case .migrated, .resumed:
            out += "\(file): \(o.action == .resumed ? "completed the interrupted migration of" : "migrated") \(r.shape.label) \(r.planID) → "
                + "\(rel(o.planPath)) LOCKED (digest \(o.state.planDigest?.description ?? "?")), \(rel(o.journalPath)) (migrated genesis \(o.genesis.hash)), "
                + "\(rel(o.snapshotPath)) at \(StatusTable.format(o.state.completion)) %\n"
            out += "  \(summary(o.state)); \(r.legacyState.count) field\(r.legacyState.count == 1 ? "" : "s") moved to the status; backup \(o.backupPaths.map(rel).joined(separator: ", "))\n"
            out += "  g \(o.gBefore) → \(o.gAfter)" + (o.pointsStateHere ? "; state.txt now points at exec_status_\(o.planG)" : "") + "\n"
        case .wouldMigrate:
            out += "\(file): \(r.shape.label) \(r.planID), \(o.state.tasks.count) task\(o.state.tasks.count == 1 ? "" : "s"), source \(r.sourceDigest)\n"
            out += "  would write \(rel(o.planPath)) (LOCKED, digest \(o.state.planDigest?.description ?? "?")), \(rel(o.journalPath)) (signed migrated genesis by \(o.genesis.persona), \(o.genesis.line.count) bytes), "
                + "\(rel(o.snapshotPath)), \(o.backupPaths.map(rel).joined(separator: ", "))\n"
            out += "  would set state.txt g \(o.gBefore) → \(o.gAfter)" + (o.pointsStateHere ? " and current_exec_status_id_ref → exec_status_\(o.planG)" : "") + "\n"
            out += "  plan fields (clean v5.4 plan):\n"
            for c in r.changes where c.kind != .toStatus {
                let target = c.target?.description ?? "?"
                let line: String
                switch c.kind {
                case .kept: line = "kept      \(target) = \(value(c.value))"
                case .moved: line = "moved     \(c.source!) → \(target) = \(value(c.value))"
                case .derived: line = "derived   \(target) = \(value(c.value))  (from \(c.source!): \(c.note ?? ""))"
                default: line = "default   \(target) = \(value(c.value))" + (c.note.map { "  (\($0))" } ?? "")
                }
                out += "    \(line)\(c.kind == .kept || c.kind == .moved ? (c.note.map { "  (\($0))" } ?? "") : "")\n"
            }
            out += "  moved to the status (genesis data.legacy_state, verbatim by path):\n"
            for c in r.changes where c.kind == .toStatus {
                var line = "    \(c.source!) = \(value(c.value))  (\(c.note ?? ""))"
                if let tp = taskStatusPath(c.source!, r.shape),
                   let id = r.plan.json.value(at: tp)?["task_id"]?.stringValue,
                   let mapped = r.taskStatus[id]?.stringValue {
                    line += " → \(mapped)"
                }
                out += line + "\n"
            }
            for (path, v) in r.legacyStateFile {
                out += "    \(r.retryCounters?.sourceName ?? "state"):\(path) = \(value(v))  (rt retry counter)\n"
            }
            out += "  status after the genesis: \(summary(o.state)), \(StatusTable.format(o.state.completion)) % complete\n"
            for t in o.state.tasks {
                var extra: [String] = []
                if let orig = t.legacy["original_status"] { extra.append("was \(value(orig))") }
                if t.percent > 0 && !t.status.isComplete { extra.append("\(t.percent) %") }
                if t.attempts > 0 { extra.append("retries used \(t.attempts)") }
                if let items = t.legacy["execution_checklist"]?.arrayValue { extra.append("\(items.count) checklist item state\(items.count == 1 ? "" : "s")") }
                if t.testsPassed + t.testsFailed > 0 { extra.append("tests \(t.testsPassed) passed, \(t.testsFailed) failed") }
                out += "    \(t.id) \(t.status.rawValue)" + (extra.isEmpty ? "" : "  (" + extra.joined(separator: ", ") + ")") + "\n"
            }
        }
        for w in r.warnings { out += "  warning: \(w)\n" }
        return out
    }

    /// For a task's own status (`tasks[i].status` flat, `payload.tasks[i].status` HAIOS), the
    /// clean-plan path of that task.
    static func taskStatusPath(_ p: JSONPath, _ shape: LegacyMigration.Shape) -> JSONPath? {
        let prefix: [JSONPath.Component] = shape == .flat ? [.key("tasks")] : [.key("payload"), .key("tasks")]
        let c = p.components
        guard c.count == prefix.count + 2, Array(c.prefix(prefix.count)) == prefix, c.last == .key("status"),
              case .index(let i) = c[prefix.count] else { return nil }
        return JSONPath([.key("payload"), .key("tasks"), .index(i)])
    }

    static func summary(_ s: StatusState) -> String {
        TaskStatus.allCases.compactMap { st in s.count(st) == 0 ? nil : "\(s.count(st)) \(st.rawValue)" }.joined(separator: ", ")
    }

    /// A value as canonical JSON, cut to 160 characters.
    static func value(_ v: JSONValue) -> String {
        let s = CanonicalJSON.string(v)
        return s.count <= 160 ? s : String(s.prefix(157)) + "…"
    }
}

extension LogbookError {
    /// The error with the migrated file it concerns as a fact (`file`), for the JSON error.
    func withFile(_ file: String) -> LogbookError {
        var e = self
        e.facts["file"] = .string(file)
        return e
    }
}
