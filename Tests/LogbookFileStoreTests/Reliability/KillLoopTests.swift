import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// kill -9 loops: `logbook append-load` writer processes killed at random moments, at least 1,000
/// times in CI (`LOGBOOK_KILLS=N`, or `LOGBOOK_SOAK=1` for 10,000). Each writer records an event's
/// seq and hash in its ack file only after the event is durable; after recovery every acknowledged
/// event is present exactly once and verify passes.
@Suite(.serialized) struct KillLoopTests {
    @Test func writersKilledAtRandomMomentsLoseNothingAcknowledged() async throws {
        let kills = Reliability.int("LOGBOOK_KILLS", ci: 1000, soak: 10_000)
        let perRound = 4
        let rounds = (kills - 1 + perRound - 1) / perRound  // + the probe
        let (ws, file) = try await MultiProcessTests.loadWorkspace(writers: perRound)
        let dir = TestSupport.tempDirectory("killloop")
        // The loop runs on its own thread with real sleeps: on the test runner's cooperative pool
        // (two threads here, shared with CPU-bound tests) a sleep can stretch to seconds, and the
        // kills would land anywhere but where they are aimed.
        let loop = try await Self.onThread {
            try Self.killRounds(ws: ws, file: file, dir: dir, rounds: rounds, perRound: perRound, midAppendWanted: kills / 10 + 1)
        }
        let (killed, midAppend, exitedBeforeKill, tornSeen, spread, ackFiles) = (loop.killed, loop.midAppend, loop.exitedBeforeKill, loop.tornSeen, loop.spread, loop.ackFiles)
        // Recovery as the next process does it, then the audit.
        let torn = try ws.store.tornTailBytes(file.journalRef)
        _ = try ws.store.recover(file.journalRef)
        let events = try await MultiProcessTests.events(ws, file)
        #expect(events.map(\.seq) == Array(0..<events.count))
        let bySeq = Dictionary(uniqueKeysWithValues: events.map { ($0.seq, $0.hash.hex) })
        var hashCount: [String: Int] = [:]
        for e in events { hashCount[e.hash.hex, default: 0] += 1 }
        let acks = MultiProcessTests.acks(ackFiles)
        var lost = 0
        for (seq, hash) in acks where bySeq[seq] != hash || hashCount[hash] != 1 { lost += 1 }
        #expect(lost == 0, "\(lost) acknowledged events missing, different or duplicated after kill -9")
        #expect(Set(acks.map(\.0)).count == acks.count, "one seq acknowledged twice")
        let report = try await ws.engine.verify(file)
        #expect(report.ok, "\(report.failure?.description ?? "") (torn tail before recovery: \(torn) bytes)")
        #expect(killed >= kills, "only \(killed) kills")
        // How many kills land mid-append depends on the machine's speed: the loop kept killing
        // (and aimed later) until enough had, within its bounds (``extraRoundsLimit``, ``extraTime``).
        // A machine so loaded that even the extra rounds were not enough is not a failure of the
        // code under test (every kill above was still audited); the figure says so.
        #expect(midAppend > kills / 10 || loop.stoppedAtBound, "too few kills landed while appending (\(midAppend) in \(loop.rounds) rounds, aimed up to \(loop.spread) ms) to test anything")
        if loop.stoppedAtBound && midAppend <= kills / 10 {
            FaultSweep.report("kill -9 loop", "WARNING: only \(midAppend) of \(killed) kills landed mid-append within the loop's bounds (a very busy machine)")
        }
        FaultSweep.report("kill -9 loop", "\(killed) writer processes killed in \(loop.rounds) rounds of \(perRound) (\(loop.rounds - rounds) more than planned, to get enough kills mid-append) and one probe, at random moments within \(spread) ms of start (the probe's first acknowledgement came after \(spread - 120) ms, capped at 400; \(midAppend) after acknowledging at least one event, \(exitedBeforeKill) had exited), \(acks.count) acknowledged events all present exactly once, \(events.count) events in the journal, \(tornSeen) rounds left a torn tail (cut by the next writer), verify OK; seed \(Reliability.seed)")
    }

    /// The loop keeps killing past its planned rounds until enough kills landed mid-append
    /// (issue 9 §8): here 2 planned rounds of 1 writer cannot give 3, so it must go on.
    @Test func theLoopKeepsKillingUntilEnoughLandMidAppend() async throws {
        let (ws, file) = try await MultiProcessTests.loadWorkspace(writers: 1)
        let dir = TestSupport.tempDirectory("killmore")
        let loop = try await Self.onThread { try Self.killRounds(ws: ws, file: file, dir: dir, rounds: 2, perRound: 1, midAppendWanted: 3) }
        // Two rounds of one writer give at most two: it must go on, and it stops either with
        // enough or at its bound (how many land depends on the machine, so either is fine).
        #expect(loop.rounds > 2, "it stopped at the planned rounds")
        #expect(loop.midAppend >= 3 || loop.stoppedAtBound, "\(loop.midAppend) mid-append kills in \(loop.rounds) rounds")
        #expect(loop.rounds <= 2 * (1 + Self.extraRoundsLimit))
        if loop.midAppend >= 3 { #expect(!loop.stoppedAtBound) }
        _ = try ws.store.recover(file.journalRef)
        #expect(try await ws.engine.verify(file).ok)
    }

    struct Loop: Sendable {
        var killed = 0, midAppend = 0, exitedBeforeKill = 0, tornSeen = 0, spread = 0, rounds = 0
        /// The extra rounds ended at their bound (count or time) with too few mid-append kills.
        var stoppedAtBound = false
        var ackFiles: [String] = []
    }

    /// Runs `body` on a new thread (not the cooperative pool) and returns its result.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
            Thread { c.resume(with: Result { try body() }) }.start()
        }
    }

    /// At most this many times the planned rounds are added while too few kills landed mid-append.
    static let extraRoundsLimit = 3
    /// And for at most this long (the rounds already run are not bounded by it).
    static let extraTime: Duration = .seconds(300)

    /// Runs `rounds` rounds of `perRound` writers killed at random moments, then keeps going
    /// (bounded by ``extraRoundsLimit`` and ``extraTime``) until at least `midAppendWanted`
    /// writers were killed after acknowledging an event: on a slow or busy machine writers take
    /// longer to start, so after each extra round without one the kills are aimed later.
    static func killRounds(ws: Workspace, file: PlanFile, dir: String, rounds: Int, perRound: Int, midAppendWanted: Int = 0) throws -> Loop {
        var rng = SeededRandom(seed: Reliability.seed)
        var l = Loop()
        func ackBytes(_ path: String) -> Int { (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0 }
        // How long a writer takes to acknowledge its first event on this machine now (a slow or
        // busy machine starts processes slowly): kills are spread over that (at most 400 ms) plus
        // 120 ms, so most land while appending. A measurement to aim the kills, not an assertion.
        let probeAck = "\(dir)/ack-probe"
        l.ackFiles.append(probeAck)
        let probe = try MultiProcessTests.writer(ws, task: "L1", count: 1_000_000, ack: probeAck)
        var waitedMS = 0
        while ackBytes(probeAck) == 0, probe.isRunning, waitedMS < 400 {
            usleep(2000)
            waitedMS += 2
        }
        kill(probe.processIdentifier, SIGKILL)
        probe.waitUntilExit()
        l.killed += 1
        l.spread = waitedMS + 120
        let clock = ContinuousClock()
        var extraStart: ContinuousClock.Instant?
        var round = 0
        while true {
            if round >= rounds {
                guard l.midAppend < midAppendWanted else { break }
                let start = extraStart ?? clock.now
                extraStart = start
                guard round < rounds * (1 + extraRoundsLimit), clock.now - start < extraTime else {
                    l.stoppedAtBound = true
                    break
                }
            }
            defer { round += 1; l.rounds = round }
            let midBefore = l.midAppend
            var procs: [(Process, String)] = []
            for w in 1...perRound {
                let ack = "\(dir)/ack-\(round)-\(w)"
                l.ackFiles.append(ack)
                // Concurrency 1–3: single appends and group-committed batches.
                let p = try MultiProcessTests.writer(ws, task: "L\(w)", count: 1_000_000, ack: ack, concurrency: 1 + (round + w) % 3)
                procs.append((p, ack))
            }
            // A random moment: sometimes during start-up, mostly while appending.
            let delay = Int.random(in: 0...l.spread, using: &rng)
            if delay > 0 { usleep(useconds_t(delay * 1000)) }
            for (p, _) in procs {
                if p.isRunning { kill(p.processIdentifier, SIGKILL); l.killed += 1 } else { l.exitedBeforeKill += 1 }
            }
            for (p, ack) in procs {
                p.waitUntilExit()
                if p.terminationReason == .uncaughtSignal, ackBytes(ack) > 0 { l.midAppend += 1 }
            }
            if try ws.store.tornTailBytes(file.journalRef) > 0 { l.tornSeen += 1 }
            // Past the planned rounds and still short: aim later (up to 4 s) when none landed.
            if round >= rounds, l.midAppend == midBefore { l.spread = min(4000, l.spread + max(20, l.spread / 4)) }
        }
        return l
    }

    @Test func aLockHolderKilledWhileHoldingTheLockDoesNotStopTheNextWriter() async throws {
        let (ws, file) = try await TestSupport.lockedWorkspace("lockholder")
        let book = try await ws.engine.book(file)
        let key = try await ws.engine.signingKey(for: "WORKER")
        _ = try await book.submit(EventRequest(type: .started, task: "T1", persona: "WORKER"), signer: key)
        let path = ws.store.journalPath(file.journalRef)
        let intact = TestSupport.bytes(path)
        // Another process takes the journal's flock, writes half a line (as a writer dying
        // mid-write would) and holds the lock until it is killed.
        let partial = #"{"archetype":"IMPLEMENTER","data":{"note":"half"#
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/bin/sh")
        // One process (sh, then sleep by exec) holds the open file and its lock: killing it releases both.
        holder.arguments = ["-c", "exec 9>>'\(path)' && flock --exclusive 9 && printf '%s' '\(partial)' >&9 && exec sleep 600"]
        try holder.run()
        while TestSupport.bytes(path).count < intact.count + partial.utf8.count { try await Task.sleep(for: .milliseconds(5)) }
        // The next writer waits on the lock; the holder dies; the kernel releases the lock.
        let next = Task { try await book.submit(EventRequest(type: .progress, task: "T1", persona: "WORKER", data: ["percent": 10]), signer: key) }
        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        let e = try await next.value
        #expect(e.seq == 2)
        let after = TestSupport.bytes(path)
        #expect(Array(after.prefix(intact.count)) == intact)
        #expect(Workspace.splitLines(after).lines.count == 3 && Workspace.splitLines(after).partial.isEmpty)
        let copies = try FileManager.default.contentsOfDirectory(atPath: ws.root).filter { $0.contains(".torn-") }
        #expect(copies.count == 1)
        #expect(copies.first.map { TestSupport.bytes(ws.root + "/" + $0) } == Array(partial.utf8))
        #expect(try await ws.engine.verify(file).ok)
        FaultSweep.report("lock holder killed", "a process holding the journal's flock with half a line written was killed; the waiting writer proceeded, cut the \(partial.utf8.count)-byte tail (copy kept) and wrote seq 2; verify OK")
    }
}
