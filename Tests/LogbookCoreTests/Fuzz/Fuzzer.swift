import Foundation
import LogbookCore
import Testing

/// A small seeded mutational fuzzer (in the spirit of libFuzzer's mutators, without coverage
/// feedback): inputs are real files (test resources, golden vectors, a generated journal and
/// snapshot) changed by byte-level mutations (bit flips, interesting bytes, inserted tokens,
/// deleted / duplicated / spliced ranges, truncation) and by JSON-aware ones (a value anywhere in
/// the tree replaced by an interesting one, a member added, removed, renamed or duplicated), plus
/// generated extremes: deep nesting, huge lines, invalid UTF-8, NUL and control characters,
/// numbers out of range, ids with path separators.
///
/// `LOGBOOK_FUZZ_N` sets the inputs per parser (default 100,000; 1,000,000 with `LOGBOOK_SOAK=1`);
/// `LOGBOOK_SEED` the seed. A failing input is written to the temp folder and named in the issue.
struct Fuzzer {
    static let env = ProcessInfo.processInfo.environment
    static var inputs: Int {
        if let n = env["LOGBOOK_FUZZ_N"].flatMap(Int.init) { return n }
        return env["LOGBOOK_SOAK"] == "1" ? 1_000_000 : 100_000
    }
    static var seed: UInt64 { env["LOGBOOK_SEED"].flatMap(UInt64.init) ?? 0x4C6F_6762_6F6F_6B21 }

    struct Random: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func int(_ r: ClosedRange<Int>) -> Int { Int.random(in: r, using: &self) }
        mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &self) < p }
        mutating func pick<T>(_ a: [T]) -> T { a[int(0...(a.count - 1))] }
    }

    enum Verdict { case accepted, rejected }

    let name: String
    let seeds: [[UInt8]]
    let parsed: [JSONValue?]
    /// Mutated inputs longer than this are cut (the generated extremes are not).
    var maxLength = 2048
    var rng: Random

    init(_ name: String, seeds: [[UInt8]]) {
        precondition(!seeds.isEmpty, "no seeds for \(name)")
        self.name = name
        self.seeds = seeds
        parsed = seeds.map { try? JSONParser.parse($0) }
        maxLength = max(maxLength, 2 * (seeds.map(\.count).max() ?? 0))
        var h: UInt64 = Fuzzer.seed
        for b in name.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        rng = Random(state: h)
    }

    static let tokens: [String] = [
        "\"", "\\", "\\u0000", "\\ud800", "\\udc00", "\\ud83d\\ude00", "\\u00e9", "{", "}", "[", "]", ",", ":", "null", "true", "false",
        "1e400", "-1e400", "1e-400", "-0", "0.0", "9007199254740993", "18446744073709551616", "123456789012345678901234567890",
        "-1", "1.5", "NaN", "Infinity", "0x10", "01", "../x", "/", "..", ".", "a/b", "\u{0}", "\u{1F}", "\u{7F}", "\u{FEFF}", "\r\n", "\t",
        "\"seq\":", "\"prev\":", "\"hash\":\"sha256:", "\"task\":\"../x\"", "\"persona\":\"../x\"", "\"id\":\"../x\"", "\"task_id\":\"../x\"",
        "sha256:", "—", "✓", "\u{10FFFF}",
    ]
    static let interesting: [JSONValue] = [
        .null, .bool(true), .bool(false), 0, -1, 1, 100, 101, .number(1.5), .number(-0.0), .number(1e308), .number(-1e308), .number(5e-324),
        .number(9_007_199_254_740_993), .number(18_446_744_073_709_551_616), .number(Double(Int.max)), .number(-Double(Int.max)),
        "", "../x", "../../etc/passwd", "a/b", "/abs", ".", "..", "x\u{0}y", "\u{7F}", "\u{FEFF}", "T1", "T99", "EP-TEST", "SUPERVISOR", "DEV",
        .string(String(repeating: "A", count: 129)), .string(String(repeating: "é", count: 5000)), "sha256:0000", "not-base64!",
        "2025-13-40T25:61:61.000Z", "9999-12-31T23:59:59.999Z", "progress", "created", "DONE", .array([]), .object(JSONObject()),
    ]
    static let keys = ["v", "seq", "prev", "ts", "g", "plan", "task", "persona", "archetype", "type", "data", "hash", "sig", "key_id",
                       "payload", "tasks", "task_id", "id", "role", "public_key", "journal", "cursor", "personas", "percent", "note",
                       "execution_plan_id", "assigned_agent_persona", "dependencies", "max_retries", "tasks_status", "status"]

    /// The next input.
    mutating func next() -> [UInt8] {
        let roll = rng.int(0...999)
        if roll < 8 { return extreme() }
        let i = rng.int(0...(seeds.count - 1))
        var out: [UInt8]
        if roll < 480, let tree = parsed[i] {
            out = treeMutation(tree)
            if rng.chance(0.25) { out = byteMutations(out, count: 1) }
        } else {
            out = byteMutations(seeds[i], count: rng.int(1...6))
        }
        if out.count > maxLength { out = Array(out.prefix(maxLength)) }
        return out
    }

    mutating func byteMutations(_ input: [UInt8], count: Int) -> [UInt8] {
        var b = input
        for _ in 0..<count {
            switch rng.int(0...9) {
            case 0 where !b.isEmpty: b[rng.int(0...(b.count - 1))] ^= UInt8(1 << rng.int(0...7))
            case 1 where !b.isEmpty: b[rng.int(0...(b.count - 1))] = rng.pick([0, 0x0A, 0x0D, 0x1F, 0x22, 0x5C, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xF8, 0xFF, UInt8.random(in: 0...255, using: &rng)])
            case 2: b.insert(contentsOf: Array(rng.pick(Fuzzer.tokens).utf8), at: rng.int(0...b.count))
            case 3 where b.count > 1:
                let s = rng.int(0...(b.count - 1)), e = min(b.count, s + rng.int(1...64))
                b.removeSubrange(s..<e)
            case 4 where b.count > 1:
                let s = rng.int(0...(b.count - 1)), e = min(b.count, s + rng.int(1...128))
                b.insert(contentsOf: b[s..<e], at: rng.int(0...b.count))
            case 5:
                let other = seeds[rng.int(0...(seeds.count - 1))]
                guard !other.isEmpty else { continue }
                let s = rng.int(0...(other.count - 1)), e = min(other.count, s + rng.int(1...256))
                b.insert(contentsOf: other[s..<e], at: rng.int(0...b.count))
            case 6 where !b.isEmpty: b = Array(b.prefix(rng.int(0...(b.count - 1))))
            case 7: b.insert(contentsOf: (0..<rng.int(1...8)).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: rng.int(0...b.count))
            case 8:
                // A number somewhere replaced by an out-of-range one.
                if let i = b.firstIndex(where: { (0x30...0x39).contains($0) }) {
                    b.insert(contentsOf: Array(rng.pick(["1e400", "99999999999999999999999", "-", "e", ".", "0"]).utf8), at: i)
                }
            default:
                if b.count > 2 { b.swapAt(rng.int(0...(b.count - 1)), rng.int(0...(b.count - 1))) }
            }
        }
        return b
    }

    mutating func treeMutation(_ tree: JSONValue) -> [UInt8] {
        var t = tree
        for _ in 0..<rng.int(1...3) { t = mutateValue(t, depth: 0) }
        var out = rng.chance(0.8) ? CanonicalJSON.bytes(t) : PrettyJSON.bytes(t)
        if rng.chance(0.06), out.first == UInt8(ascii: "{"), case .object(let o) = t, let first = o.keys.first {
            // A duplicate member name.
            out.insert(contentsOf: Array("\"\(first)\":1,".utf8), at: 1)
        }
        return out
    }

    mutating func mutateValue(_ v: JSONValue, depth: Int) -> JSONValue {
        switch v {
        case .object(var o) where !o.isEmpty && (depth < 6 && rng.chance(0.75)):
            let keys = o.keys
            let k = rng.pick(keys)
            switch rng.int(0...9) {
            case 0: o[k] = nil
            case 1: o[rng.pick(Fuzzer.keys)] = rng.pick(Fuzzer.interesting)
            case 2:
                let val = o[k]!
                o[k] = nil
                o[k + rng.pick(["_", "X", ""])] = val
            default: o[k] = mutateValue(o[k]!, depth: depth + 1)
            }
            return .object(o)
        case .array(var a) where !a.isEmpty && (depth < 6 && rng.chance(0.75)):
            let i = rng.int(0...(a.count - 1))
            switch rng.int(0...5) {
            case 0: a.remove(at: i)
            case 1: a.append(a[i])
            case 2: a.insert(rng.pick(Fuzzer.interesting), at: i)
            default: a[i] = mutateValue(a[i], depth: depth + 1)
            }
            return .array(a)
        default:
            if rng.chance(0.1) { return nested(rng.int(1...40)) }
            return rng.pick(Fuzzer.interesting)
        }
    }

    func nested(_ depth: Int) -> JSONValue {
        var v: JSONValue = 1
        for i in 0..<depth { v = i % 2 == 0 ? .array([v]) : .object(JSONObject([("a", v)])) }
        return v
    }

    /// Deep nesting, huge lines, invalid UTF-8 and control characters.
    mutating func extreme() -> [UInt8] {
        switch rng.int(0...7) {
        case 0: return Array(String(repeating: "[", count: rng.int(100...20_000)).utf8)
        case 1:
            let d = rng.int(120...1000)
            return Array((String(repeating: "{\"a\":", count: d) + "1" + String(repeating: "}", count: d)).utf8)
        case 2: return Array(("{\"note\":\"" + String(repeating: "x", count: rng.int(65_000...140_000)) + "\"}").utf8)
        case 3: return (0..<rng.int(1...4000)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        case 4: return Array("\"".utf8) + (0..<rng.int(1...200)).map { _ in rng.pick([0xC0, 0xC1, 0xF5, 0xFF, 0xED, 0xA0, 0x80, 0xE2, 0x82]) } + Array("\"".utf8)
        case 5: return Array("{\"a\":\"".utf8) + (0..<rng.int(1...200)).map { _ in UInt8(rng.int(0...31)) } + Array("\"}".utf8)
        case 6: return Array(("[" + String(repeating: "1e400,", count: rng.int(1...500)) + "0]").utf8)
        default:
            let seed = seeds[rng.int(0...(seeds.count - 1))]
            return Array(repeating: seed, count: rng.int(2...20)).flatMap { $0 }
        }
    }

    /// Runs `body` on `inputs` generated inputs. `body` returns whether the input was accepted;
    /// a rejection must be thrown as a LogbookError (or the parser's own error) with a message.
    mutating func run(_ count: Int = Fuzzer.inputs, _ body: ([UInt8]) throws -> Verdict) -> (accepted: Int, rejected: Int) {
        var accepted = 0, rejected = 0, reported = 0
        // The seeds themselves first, then mutants.
        for i in 0..<count {
            let input = i < seeds.count ? seeds[i] : next()
            do {
                switch try body(input) {
                case .accepted: accepted += 1
                case .rejected: rejected += 1
                }
            } catch let e as LogbookError {
                rejected += 1
                if e.message.isEmpty, reported < 5 { reported += 1; Fuzzer.record(name, input, "a LogbookError without a message (\(e.code))") }
            } catch let e as JSONParseError {
                rejected += 1
                if e.message.isEmpty, reported < 5 { reported += 1; Fuzzer.record(name, input, "a JSONParseError without a message") }
            } catch {
                if reported < 5 { reported += 1; Fuzzer.record(name, input, "an error that is not a LogbookError: \(type(of: error)) \(error)") }
            }
        }
        print("RELIABILITY fuzz \(name): \(count) inputs from \(seeds.count) seeds: \(accepted) accepted, \(rejected) rejected with a clear error, no crash, no hang (seed \(Fuzzer.seed))")
        return (accepted, rejected)
    }

    static func record(_ name: String, _ input: [UInt8], _ what: String) {
        let path = NSTemporaryDirectory() + "/logbook-fuzz-\(name)-\(UInt32.random(in: 0...UInt32.max)).bin"
        FileManager.default.createFile(atPath: path, contents: Data(input))
        Issue.record("fuzz \(name): \(what); input saved in \(path)")
    }

    /// Fails the run (with the input saved) when a property does not hold.
    static func check(_ name: String, _ ok: Bool, _ input: [UInt8], _ what: @autoclosure () -> String) {
        if !ok { record(name, input, what()) }
    }
}

/// Seeds from the test resources and a generated journal.
enum FuzzSeeds {
    static let resources = Bundle.module.url(forResource: "Resources", withExtension: nil)!
    static func file(_ path: String) -> [UInt8] { Array((try? Data(contentsOf: resources.appendingPathComponent(path))) ?? Data()) }
    static func files(_ dir: String) -> [[UInt8]] {
        let url = resources.appendingPathComponent(dir)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted()
        return names.compactMap { try? Data(contentsOf: url.appendingPathComponent($0)) }.map { Array($0) }
    }
    static func lines(_ bytes: [UInt8]) -> [[UInt8]] { bytes.split(separator: 0x0A).map { Array($0) } }

    /// The legacy corpus of the file-store tests (by source path: the same repository).
    static var legacy: [[UInt8]] {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("LogbookFileStoreTests/Resources/legacy")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix(".json") || $0 == "state.txt" }.sorted()
        return names.compactMap { try? Data(contentsOf: dir.appendingPathComponent($0)) }.map { Array($0) }
    }

    /// A generated journal (every event type the fixture plan allows) and its snapshot.
    static func world() async throws -> (Fixture.World, [[UInt8]], [UInt8]) {
        let w = try await Fixture.world()
        try await w.submit(.started, "T1", by: "DEV")
        try await w.submit(.progress, "T1", by: "DEV", ["percent": 40, "note": "half — ✓"], idempotencyKey: "k1")
        try await w.submit(.testResult, "T1", by: "DEV", ["suite": "unit", "passed": 3, "failed": 1, "skipped": 0, "artifact": "ci/1"])
        try await w.submit(.blocked, "T1", by: "DEV", ["reason": "waiting"])
        try await w.submit(.unblocked, "T1", by: "SUPERVISOR", ["reason": "go"])
        try await w.submit(.failed, "T1", by: "DEV", ["reason": "broke", "details": "stack"])
        try await w.submit(.retried, "T1", by: "DEV", ["reason": "again"])
        try await w.submit(.done, "T1", by: "DEV", ["summary": "ok", "outputs": ["a.txt"]])
        try await w.submit(.achievement, "T1", by: "SUPERVISOR", ["summary": "nice"])
        try await w.submit(.started, "T4", by: "DEV")
        try await w.submit(.waived, "T3", by: "SUPERVISOR", ["reason": "later"])
        try await w.submit(.reopened, "T1", by: "SUPERVISOR", ["reason": "regression"])
        let snap = try await w.book.snapshotBytes().bytes
        return (w, try await w.lines(), snap)
    }
}
