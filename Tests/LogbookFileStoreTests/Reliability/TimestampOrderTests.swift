import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Synchronization
import Testing

/// Issue 9 §2: event timestamps never go backwards in seq order, whatever the writers' clocks do
/// and however their appends interleave.
@Suite struct TimestampOrderTests {
    func timestamps(_ ws: Workspace, _ file: PlanFile) async throws -> [(Int, String)] {
        var out: [(Int, String)] = []
        try await ws.store.forEachLine(file.journalRef) { let e = try Event(line: $0.bytes); out.append((e.seq, e.ts)) }
        return out
    }

    func expectNonDecreasing(_ ts: [(Int, String)], _ context: String) {
        #expect(ts.map(\.0) == Array(0..<ts.count), "\(context): seqs")
        for k in 1..<ts.count {
            let a = Timestamp.parse(ts[k - 1].1) ?? 0, b = Timestamp.parse(ts[k].1) ?? 0
            #expect(a <= b, "\(context): seq \(ts[k].0) at \(ts[k].1) is before seq \(ts[k - 1].0) at \(ts[k - 1].1)")
        }
    }

    /// Several books on one journal in one process (as several processes would be), each with a
    /// clock that jitters and steps back by up to an hour, appending at the same time.
    @Test func concurrentWritersWithJitteringClocks() async throws {
        let (ws, file) = try await TestSupport.lockedWorkspace("ts-jitter")
        let spec = try file.document.spec()
        let base = Date()
        let writers = 6, each = 25
        // Each writer's clock: a deterministic walk that goes back and forth (up to an hour back).
        let books = try await (0..<writers).asyncMap { w -> StatusBook in
            let tick = Mutex(0)
            let options = StatusBook.Options(snapshotInterval: 16, now: {
                let n = tick.withLock { t in t += 1; return t }
                let offsets: [TimeInterval] = [0, -3600, 0.5, -0.25, 7, -42, 0.001, -1]
                return base.addingTimeInterval(Double(n) * 0.01 + offsets[(n + w) % offsets.count] * Double(w + 1) / 6)
            }, currentG: { 1 })
            return try await StatusBook.open(store: ws.store, ref: file.journalRef, plan: spec, options: options)
        }
        let key = try await ws.engine.signingKey(for: "WORKER")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (w, book) in books.enumerated() {
                group.addTask {
                    for i in 0..<each {
                        _ = try await book.submit(EventRequest(type: .achievement, task: "T1", persona: "WORKER",
                                                               data: ["summary": .string("writer \(w) note \(i)")]), signer: key)
                    }
                }
            }
            try await group.waitForAll()
        }
        let ts = try await timestamps(ws, file)
        #expect(ts.count == 1 + writers * each)
        expectNonDecreasing(ts, "jittering clocks")
        let report = try await ws.engine.verify(file)
        #expect(report.ok, "\(report.failure?.description ?? "")")
        #expect(!report.warnings.contains { $0.contains("earlier than the previous") }, "\(report.warnings.prefix(3))")
    }

    /// Several CLI processes appending at once.
    @Test func concurrentProcesses() async throws {
        let f = try await CLIFixture.make("ts-procs")
        let procs = try (0..<6).map { w -> Process in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            let bin = TestSupport.binary
            p.arguments = ["-c", (0..<5).map { i in "'\(bin)' task achieve T1 --summary 'p\(w) n\(i)' --persona WORKER --workspace '\(f.root)'" }.joined(separator: " && ")]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            return p
        }
        for p in procs { p.waitUntilExit(); #expect(p.terminationStatus == 0) }
        let ts = try await timestamps(f.ws, f.plan)
        #expect(ts.count == 31)
        expectNonDecreasing(ts, "6 processes")
    }
}

extension TimestampOrderTests {
    /// The issue's case: several `validate` processes at once on a finished plan. Every verdict
    /// is recorded (or cleanly refused), timestamps never go backwards, and the journal verifies.
    @Test func concurrentValidates() async throws {
        let f = try await CLIFixture.make("ts-validate")
        for t in ["T1", "T2", "T3"] {
            try f.ok(["task", "start", t, "--persona", "WORKER"])
            try f.ok(["task", "done", t, "--persona", "WORKER"])
        }
        let procs = try (0..<4).map { _ -> Process in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: TestSupport.binary)
            p.arguments = ["validate", "--persona", "SUPERVISOR", "--workspace", f.root]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            return p
        }
        for p in procs { p.waitUntilExit(); #expect([0, 3].contains(p.terminationStatus)) }
        #expect(procs.contains { $0.terminationStatus == 0 })
        let ts = try await timestamps(f.ws, f.plan)
        expectNonDecreasing(ts, "4 validate processes")
        let report = try await f.ws.engine.verify(f.plan)
        #expect(report.ok, "\(report.failure?.description ?? "")")
        #expect(try await f.ws.engine.book(f.plan).state().lifecycle == .validating)
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for x in self { out.append(try await transform(x)) }
        return out
    }
}
