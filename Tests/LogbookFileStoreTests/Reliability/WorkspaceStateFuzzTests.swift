import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Testing

/// Fuzz: state.txt (the workspace clock and the pointer to the live status), which lives in the
/// file store. Seeded with a fresh state, a live one, and the legacy corpus' state.txt. No crash;
/// every rejection a LogbookError with a message; an accepted pointer never names a path.
@Suite struct WorkspaceStateFuzzTests {
    @Test func stateFilesNeverCrashAndNeverPointOutside() async throws {
        let (ws, _) = try await TestSupport.lockedWorkspace("fuzz-state")
        let live = TestSupport.bytes(ws.statePath)
        let legacy = Array((try? Data(contentsOf: Bundle.module.url(forResource: "Resources", withExtension: nil)!
            .appendingPathComponent("legacy/state.txt"))) ?? Data())
        let seeds = [live, PrettyJSON.bytes(WorkspaceState.initial().json), CanonicalJSON.bytes(WorkspaceState.initial().json), legacy]
        let count = Reliability.int("LOGBOOK_FUZZ_N", ci: 100_000, soak: 1_000_000)
        var rng = SeededRandom(seed: Reliability.seed ^ 0x5354_4154_45)
        let tokens = ["../x", "exec_status_../x", "exec_status_1/../../etc", "exec_status_-1", "exec_status_99999999999999999999", "\u{0}",
                      "1e400", "-1", "9007199254740993", "null", "{", "}", "\"", "[", "\\ud800", "exec_status_1", "\"g\":1,"]
        var accepted = 0, rejected = 0
        for i in 0..<count {
            var b = seeds[i % seeds.count]
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                switch Int.random(in: 0...4, using: &rng) {
                case 0 where !b.isEmpty: b[Int.random(in: 0..<b.count, using: &rng)] ^= UInt8(1 << Int.random(in: 0...7, using: &rng))
                case 1: b.insert(contentsOf: Array(tokens.randomElement(using: &rng)!.utf8), at: Int.random(in: 0...b.count, using: &rng))
                case 2 where b.count > 2:
                    let s = Int.random(in: 0..<b.count, using: &rng)
                    b.removeSubrange(s..<min(b.count, s + Int.random(in: 1...40, using: &rng)))
                case 3:
                    // Replace the status pointer's value.
                    let text = String(decoding: b, as: UTF8.self)
                    if let r = text.range(of: "\"current_exec_status_id_ref\": ") ?? text.range(of: "\"current_exec_status_id_ref\":") {
                        b = Array((text[..<r.upperBound] + "\"" + tokens.randomElement(using: &rng)! + "\"," + text[r.upperBound...]).utf8)
                    }
                default:
                    if !b.isEmpty { b[Int.random(in: 0..<b.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
                }
            }
            do {
                let s = try WorkspaceState(bytes: b)
                accepted += 1
                _ = s.g
                _ = s.workspaceID
                if let g = s.currentPlanG {
                    // The pointer becomes exec_plan_<g>.txt / exec_status_<g>.journal: a number, never a path.
                    #expect(!ws.planPath(g: g).dropFirst(ws.root.count + 1).contains("/"), "state.txt pointer \(g) names a path")
                }
            } catch let e as LogbookError {
                rejected += 1
                #expect(!e.message.isEmpty)
            } catch {
                Issue.record("not a LogbookError: \(error)")
            }
        }
        #expect(accepted > count / 100 && rejected > count / 10)
        FaultSweep.report("fuzz state.txt", "\(count) inputs from \(seeds.count) seeds: \(accepted) accepted (every status pointer a number), \(rejected) rejected with a LogbookError, no crash, no hang")
    }
}
