import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Testing

/// Many writers at once: 16 processes, and separately 64 tasks in one process. Exact count,
/// gap-free seq, a valid chain, no interleaved bytes.
@Suite(.serialized) struct ManyWritersTests {
    /// Every line of the file is whole: canonical, newline-terminated, nothing between lines.
    static func checkNoInterleaving(_ ws: Workspace, _ file: PlanFile) throws -> Int {
        let bytes = TestSupport.bytes(ws.store.journalPath(file.journalRef))
        let (lines, partial) = Workspace.splitLines(bytes)
        #expect(partial.isEmpty, "the journal ends mid-line")
        #expect(lines.reduce(0) { $0 + $1.count + 1 } == bytes.count)
        for (i, l) in lines.enumerated() {
            let e = try Event(line: l)
            #expect(e.seq == i && e.line == l + [0x0A], "line \(i + 1) is not one whole event")
        }
        return lines.count
    }

    @Test func sixteenWriterProcesses() async throws {
        let writers = 16, count = Reliability.int("LOGBOOK_WRITER_EVENTS", ci: 60, soak: 1000)
        let (ws, file) = try await MultiProcessTests.loadWorkspace(writers: writers)
        let dir = TestSupport.tempDirectory("acks16")
        let ackFiles = (1...writers).map { "\(dir)/ack-\($0)" }
        let procs = try (1...writers).map { try MultiProcessTests.writer(ws, task: "L\($0)", count: count, ack: ackFiles[$0 - 1], concurrency: 1 + $0 % 4) }
        for p in procs { p.waitUntilExit() }
        #expect(procs.allSatisfy { $0.terminationStatus == 0 })
        let lines = try Self.checkNoInterleaving(ws, file)
        #expect(lines == 1 + writers * (count + 1))
        let events = try await MultiProcessTests.events(ws, file)
        let acks = MultiProcessTests.acks(ackFiles)
        #expect(acks.count == writers * count)
        let bySeq = Dictionary(uniqueKeysWithValues: events.map { ($0.seq, $0.hash.hex) })
        #expect(acks.allSatisfy { bySeq[$0.0] == $0.1 })
        for w in 1...writers { #expect(events.filter { $0.task == "L\(w)" }.count == count + 1) }
        let report = try await ws.engine.verify(file)
        #expect(report.ok && report.events == lines, "\(report.failure?.description ?? "")")
        FaultSweep.report("many writers, 16 processes", "16 append-load processes × \(count) events (+ started), concurrency 1–4 each: \(lines) lines, exact count, gap-free seq, every line one whole canonical event, every ack present, verify OK")
    }

    @Test func sixtyFourTasksInOneProcess() async throws {
        let tasks = 64, count = Reliability.int("LOGBOOK_TASK_EVENTS", ci: 15, soak: 200)
        let (ws, file) = try await MultiProcessTests.loadWorkspace(writers: tasks)
        let key = try await ws.engine.signingKey(for: "LOADER")
        // Half share one book (group commit); half open their own store handle (separate open
        // files, so the flock serialises them inside one process too).
        let shared = try await ws.engine.book(file)
        let acked = try await withThrowingTaskGroup(of: [Event].self) { group in
            for t in 1...tasks {
                group.addTask {
                    let book = t % 2 == 0 ? shared : try await Workspace(root: ws.root).engine.book(file)
                    var out = [try await book.submit(EventRequest(type: .started, task: "L\(t)", persona: "LOADER"), signer: key)]
                    for i in 0..<count {
                        out.append(try await book.submit(EventRequest(type: .progress, task: "L\(t)", persona: "LOADER",
                                                                      data: ["percent": JSONValue(i), "note": .string("task \(t) event \(i)")]), signer: key))
                    }
                    return out
                }
            }
            var all: [Event] = []
            for try await part in group { all += part }
            return all
        }
        let lines = try Self.checkNoInterleaving(ws, file)
        #expect(lines == 1 + tasks * (count + 1))
        #expect(acked.count == tasks * (count + 1))
        let events = try await MultiProcessTests.events(ws, file)
        let bySeq = Dictionary(uniqueKeysWithValues: events.map { ($0.seq, $0.hash) })
        #expect(acked.allSatisfy { bySeq[$0.seq] == $0.hash })
        #expect(Set(acked.map(\.seq)).count == acked.count)
        let report = try await ws.engine.verify(file)
        #expect(report.ok && report.events == lines, "\(report.failure?.description ?? "")")
        FaultSweep.report("many writers, 64 tasks in one process", "64 tasks × \(count + 1) events (32 on one shared book, 32 on their own store handles): \(lines) lines, exact count, gap-free seq, no interleaved bytes, every acknowledged event at its seq, verify OK")
    }
}
