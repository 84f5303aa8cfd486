import ArgumentParser
import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore

/// One demo agent: a separate process that works through its persona's tasks, writing signed
/// events through the library (as a long-lived agent would), or, with `--server`, as a remote
/// client that signs each statement here and posts it (`logbook demo --serve`).
struct DemoAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo-agent", abstract: "Run one demo agent (used by `logbook demo`).", shouldDisplay: false)

    @Option var persona: String
    @Option var seed: UInt64 = 1
    @Option(help: "Milliseconds between steps.") var step: Int = 180
    @OptionGroup var ws: WorkspaceOptions

    @Option(help: "With --server: the persona's private key file.") var keyFile: String?

    /// Where the agent reads the state and records its events.
    struct Link {
        let plan: PlanSpec
        let state: () async throws -> StatusState
        let submit: (EventType, String, JSONObject) async throws -> Void
    }

    func link() async throws -> Link {
        if let remote = try ws.remote() {
            let p = try await RemotePlan.open(remote, nil)
            guard let keyFile else { throw LogbookError(.badInput, "demo-agent --server needs --key-file") }
            let key = try await KeyFile(path: keyFile, persona: persona).signingKey(for: persona)
            return Link(plan: p.spec, state: { try await p.state() }, submit: { type, task, data in
                let s = try await p.state()
                let st = Statement(plan: p.id, task: task, persona: persona, keyID: key.publicKey.keyID, type: type, data: data,
                                   at: Timestamp.string(Date()), seen: .init(seq: s.seq, hash: s.head!))
                _ = try await remote.submit(p.id, SignedStatement(st, signer: key))
            })
        }
        let w = try ws.open()
        let book = try await w.privateBook(try await w.plan(nil), snapshotInterval: 16)
        let key = try await w.signingKey(for: persona)
        return Link(plan: book.plan, state: { try await book.state() }, submit: { type, task, data in
            _ = try await book.submit(EventRequest(type: type, task: task, persona: persona, data: data), signer: key)
        })
    }

    func run() async throws {
        let book = try await link()
        var rng = SplitMix(seed: seed)
        var blockedAt: [String: Date] = [:]
        var blockedOnce: Set<String> = []
        var refusals = 0
        let mine = book.plan.tasks.filter { $0.assignedPersona == persona }
        func send(_ type: EventType, _ task: String, _ data: JSONObject = JSONObject()) async {
            do { try await book.submit(type, task, data) } catch {
                refusals += 1
                FileHandle.standardError.write(Data("\(persona): \(error)\n".utf8))
            }
        }
        while true {
            let s = try await book.state()
            let states = mine.map { s.task($0.id)! }
            if states.allSatisfy({ $0.status.isComplete }) { break }
            if refusals > 20 { throw LogbookError(.refused, "\(persona): too many refused writes") }
            let pick = states.first { $0.status == .inProgress }
                ?? states.first { $0.status == .failed }
                ?? states.first { $0.status == .blocked }
                ?? states.first { t in t.status == .pending && s.unmetDependencies(book.plan[task: t.id]!).isEmpty }
            if let t = pick, let script = SamplePlan.task(t.id) {
                switch t.status {
                case .pending:
                    await send(.started, t.id)
                case .failed:
                    await send(.retried, t.id, ["reason": "flaky fixture fixed; trying again"])
                case .blocked:
                    if Date().timeIntervalSince(blockedAt[t.id] ?? .distantPast) > 1.2 {
                        await send(.unblocked, t.id, ["reason": "threat model signed off"])
                    }
                case .inProgress:
                    let next = min(100, t.percent + Int(rng.next() % 16) + 15)
                    if script.failsFirstAttempt, t.attempts == 0, next >= 60 {
                        await send(.testResult, t.id, ["suite": .string(script.suite ?? "checks"), "passed": 17, "failed": 3, "skipped": 1])
                        await send(.failed, t.id, ["reason": .string("3 tests failed in \(script.suite ?? "checks")")])
                    } else if script.blocksOnce, !blockedOnce.contains(t.id), next >= 40 {
                        blockedOnce.insert(t.id)
                        blockedAt[t.id] = Date()
                        await send(.blocked, t.id, ["reason": "waiting for threat model sign-off"])
                    } else if next >= 100 {
                        if let suite = script.suite {
                            await send(.testResult, t.id, ["suite": .string(suite), "passed": JSONValue(20 + Int(rng.next() % 10)), "failed": 0, "skipped": 1])
                        }
                        if t.id == "T04" { await send(.achievement, t.id, ["summary": "API handlers complete with zero failing tests"]) }
                        await send(.done, t.id, ["summary": .string("\(script.title): complete"), "outputs": [.string("\(t.id.lowercased())-output")]])
                    } else {
                        await send(.progress, t.id, ["percent": JSONValue(next), "note": .string("working on \(script.title.lowercased())")])
                    }
                default:
                    break
                }
            }
            try await Task.sleep(for: .milliseconds(step + Int(rng.next() % UInt64(max(1, step / 2)))))
        }
    }
}

/// A small deterministic generator, so a demo run is repeatable per seed.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
