import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Logging
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue 9 §2: lifecycle steps never write on a record that does not verify, a verdict cannot
/// go stale, and each step verifies the journal once.
@Suite struct LifecycleGuardTests {
    /// EP-TEST with every task finished (T5 waived), through the CLI.
    func finished(_ name: String) async throws -> CLIFixture {
        let f = try await CLIFixture.make(name)
        for t in ["T1", "T2", "T3"] {
            try f.ok(["task", "start", t, "--persona", "WORKER"])
            try f.ok(["task", "done", t, "--persona", "WORKER"])
        }
        try f.ok(["task", "start", "T4", "--persona", "WORKER2"])
        try f.ok(["task", "done", "T4", "--persona", "WORKER2"])
        try f.ok(["task", "waive", "T5", "--reason", "covered by T4", "--persona", "SUPERVISOR"])
        return f
    }

    /// Damage to an early line, the same length (so readers starting from the snapshot never see it).
    enum Damage: String, CaseIterable, CustomTestStringConvertible {
        case editedTimestamp, forgedSignature
        var testDescription: String { rawValue }
        var kind: String { self == .editedTimestamp ? "edited" : "forged_signature" }

        /// Damages the line of seq 2 and returns that seq.
        func apply(_ f: CLIFixture) -> Int {
            var lines = f.journalLines()
            var line = Array(lines[2].utf8)
            switch self {
            case .editedTimestamp:
                // "ts":"2026-…": change the last digit of the year's millisecond field.
                let marker = Array(#""ts":""#.utf8)
                let at = (0...(line.count - marker.count)).first { Array(line[$0..<$0 + marker.count]) == marker }! + marker.count + 22
                line[at] = line[at] == UInt8(ascii: "1") ? UInt8(ascii: "2") : UInt8(ascii: "1")
            case .forgedSignature:
                let marker = Array(#""sig":""#.utf8)
                let at = (0...(line.count - marker.count)).first { Array(line[$0..<$0 + marker.count]) == marker }! + marker.count + 5
                line[at] = line[at] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
                // v2: the hash covers the signature; the forger re-hashes so only the signature is wrong.
                var e = try! Event(line: line)
                e.hash = e.computedHash
                line = Array(e.line.dropLast())
            }
            lines[2] = String(decoding: line, as: UTF8.self)
            f.writeJournal(lines: lines)
            return 2
        }
    }

    /// The snapshot at the head, sealed by the supervisor so writers start from it (an unsealed
    /// one is not trusted) and do not re-read the damaged line.
    func snapshotNow(_ f: CLIFixture) async throws {
        try await f.ws.engine.book(f.plan).writeSnapshot(sealedBy: try await f.ws.engine.signingKey(for: "SUPERVISOR"))
    }

    @Test(arguments: Damage.allCases)
    func freezeRefusesAJournalThatDoesNotVerifyAndWritesNothing(_ damage: Damage) async throws {
        let f = try await finished("guard-freeze-\(damage)")
        try f.ok(["validate", "--persona", "SUPERVISOR"])
        try await snapshotNow(f)
        let seq = damage.apply(f)
        let before = WorkspaceBytes(f.root)
        let r = try f.cli(["freeze", "--persona", "SUPERVISOR"])
        expectOneLineError(r, code: 6, mentions: ["seq \(seq)", damage.kind, "EP-TEST", "freeze"], "freeze on a \(damage) journal")
        #expect(WorkspaceBytes(f.root).changes(to: before).isEmpty, "freeze wrote \(WorkspaceBytes(f.root).changes(to: before))")
        #expect(access(f.ws.reportPaths(f.plan).json, F_OK) != 0, "no report")
        // validate refuses in the same way.
        let v = try f.cli(["validate", "--persona", "SUPERVISOR"])
        expectOneLineError(v, code: 6, mentions: ["seq \(seq)", damage.kind], "validate on a \(damage) journal")
        #expect(WorkspaceBytes(f.root).changes(to: before).isEmpty)
    }

    @Test(arguments: Damage.allCases)
    func archiveAndReportCheckRefuseAJournalThatDoesNotVerify(_ damage: Damage) async throws {
        let f = try await finished("guard-archive-\(damage)")
        try f.ok(["validate", "--persona", "SUPERVISOR"])
        try f.ok(["freeze", "--persona", "SUPERVISOR"])
        try f.ok(["report", "--check"])
        let seq = damage.apply(f)
        let before = WorkspaceBytes(f.root)
        let r = try f.cli(["archive", "--persona", "SUPERVISOR"])
        expectOneLineError(r, code: 6, mentions: ["seq \(seq)", damage.kind, "archive"], "archive on a \(damage) journal")
        #expect(WorkspaceBytes(f.root).changes(to: before).isEmpty, "archive wrote \(WorkspaceBytes(f.root).changes(to: before))")
        #expect(try await f.ws.engine.book(f.plan).state().lifecycle == .frozen)
        // report --check fails whenever verify fails.
        #expect(try f.cli(["verify"]).status == 6)
        let c = try f.cli(["report", "--check"])
        #expect(c.status == 6 && c.stderr.contains(damage.kind) && c.stderr.contains("seq \(seq)"), "\(c.stderr)")
        // A report deleted meanwhile is not rebuilt from a damaged journal either.
        try FileManager.default.removeItem(atPath: f.ws.reportPaths(f.plan).json)
        let again = WorkspaceBytes(f.root)
        #expect(try f.cli(["archive", "--persona", "SUPERVISOR"]).status == 6)
        #expect(WorkspaceBytes(f.root).changes(to: again).isEmpty)
    }

    /// archive makes the report read-only for good: it must be the report the journal gives.
    @Test(arguments: ["json", "markdown"])
    func archiveRefusesAReportThatDiffersFromItsJournal(_ which: String) async throws {
        let f = try await finished("guard-report-\(which)")
        try f.ok(["validate", "--persona", "SUPERVISOR", "--note", "all green"])
        try f.ok(["freeze", "--persona", "SUPERVISOR"])
        let (jsonPath, mdPath) = f.ws.reportPaths(f.plan)
        if which == "json" {
            // Re-hashed, so only a rebuild from the journal shows the edit (verify passes: the head is unchanged).
            var o = try #require(try JSONParser.parse(TestSupport.bytes(jsonPath)).objectValue)
            o["validation_note"] = "all green, says the editor"
            o["report_hash"] = nil
            o["report_hash"] = .string(Digest256.canonical(.object(o)).description)
            try Data(PrettyJSON.bytes(.object(o))).write(to: URL(fileURLWithPath: jsonPath))
        } else {
            try Data("# Validation Report: something else\n".utf8).write(to: URL(fileURLWithPath: mdPath))
        }
        try f.ok(["verify"])
        let before = WorkspaceBytes(f.root)
        let r = try f.cli(["archive", "--persona", "SUPERVISOR"])
        expectOneLineError(r, code: 6, mentions: ["archive", which == "json" ? "validation_note" : ".md"], "archive with an edited \(which) report")
        #expect(WorkspaceBytes(f.root).changes(to: before).isEmpty)
        #expect(try await f.ws.engine.book(f.plan).state().lifecycle == .frozen)
    }

    /// A verdict judged a head; a task event after it makes freeze refuse until validate runs again.
    @Test func aTaskEventAfterTheVerdictMakesItStale() async throws {
        let f = try await finished("guard-stale")
        try f.ok(["validate", "--persona", "SUPERVISOR"])
        try f.ok(["task", "reopen", "T1", "--reason", "a regression", "--persona", "SUPERVISOR"])
        let before = WorkspaceBytes(f.root)
        let r = try f.cli(["freeze", "--persona", "SUPERVISOR"])
        expectOneLineError(r, code: 3, mentions: ["stale", "validate", "EP-TEST"], "freeze after a reopen")
        #expect(WorkspaceBytes(f.root).changes(to: before).isEmpty)
        // Work continues; a new verdict unlocks freeze.
        try f.ok(["task", "done", "T1", "--persona", "WORKER"])
        let v = try f.ok(["validate", "--persona", "SUPERVISOR"])
        #expect(v.stdout.contains("verdict PASS"), "\(v.stdout)")
        try f.ok(["freeze", "--persona", "SUPERVISOR"])
        try f.ok(["report", "--check"])
        try f.ok(["verify"])
    }

    /// The status after a reopen is below 100 % (status --json shows what HAIOS tools read).
    @Test func aReopenedTaskDoesNotCountAs100() async throws {
        let f = try await finished("guard-reopen")
        func completion() throws -> Double {
            let j = try JSONParser.parse(Array(try f.ok(["status", "--json"]).stdout.utf8))
            return j["payload"]?["overall_status_summary"]?["overall_completion_percentage"]?.doubleValue ?? -1
        }
        #expect(try completion() == 100)
        try f.ok(["task", "reopen", "T2", "--reason", "again", "--persona", "SUPERVISOR"])
        #expect(try completion() < 100)
        let show = try JSONParser.parse(Array(try f.ok(["task", "show", "T2", "--json"]).stdout.utf8))
        #expect((show["percent_complete"]?.intValue ?? 100) < 100, "\(show)")
    }

    /// Counts the lifecycle steps' verifications (logged at debug by each step).
    final class VerifyCounter: Sendable {
        let count = Mutex(0)
        struct Handler: LogHandler {
            let counter: VerifyCounter
            var metadata: Logger.Metadata = [:]
            var logLevel: Logger.Level = .debug
            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { metadata[key] }
                set { metadata[key] = newValue }
            }
            func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
                if message.description.hasPrefix("verified plan") { counter.count.withLock { $0 += 1 } }
            }
        }
        var logger: Logger { Logger(label: "test") { _ in Handler(counter: self) } }
    }

    @Test(arguments: LifecycleStep.allCases)
    func eachStepVerifiesTheJournalOnce(_ step: LifecycleStep) async throws {
        let (ws, file) = try await step.prepared("guard-once-\(step)")
        let counter = VerifyCounter()
        let counted = Workspace(root: ws.root, logger: counter.logger)
        try await step.run(counted, file)
        #expect(counter.count.withLock { $0 } == 1, "\(step) verified \(counter.count.withLock { $0 }) times")
        #expect(try await ws.engine.verify(file).ok)
    }
}
