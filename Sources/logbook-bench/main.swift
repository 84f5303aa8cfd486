import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import Logging

/// logbook-bench: every scenario of issue 5 against its baseline, in one run.
///
///   swift run -c release logbook-bench            the full suite (about 15–25 minutes)
///   swift run logbook-bench --smoke               tiny sizes, seconds (CI)
///   … --only 1,2,4   only these scenarios (1–10, g = growth; 5, 6, 8 and 10 need the growth run; 9 is the HTTP server)
///   … --sizes 1000,100000   journal sizes of the growth table (default 10³…10⁶; smoke 10³, 3·10³)
///   … --runs N       spawns per CLI p50 (default 31; smoke 5)
///   … --cli PATH     the logbook binary to spawn (default: the one beside this binary)
///   … --dir DIR      work folder (default: a new folder under $TMPDIR; removed unless --keep)
let args = Array(CommandLine.arguments.dropFirst())
if let mode = args.first, mode.hasPrefix("_") {
    do { try await Helper.run(mode, Array(args.dropFirst())) } catch {
        FileHandle.standardError.write(Data("logbook-bench \(mode): \(error)\n".utf8))
        exit(1)
    }
    exit(0)
}
if args.contains("--help") || args.contains("-h") {
    print("usage: logbook-bench [--smoke] [--only 1,2,3,4,5,6,7,8,9,10,g] [--sizes N,N,…] [--runs N] [--cli PATH] [--dir DIR] [--keep]")
    exit(0)
}
// The library logs each journal rotation at info; the suite's own output is the table.
LoggingSystem.bootstrap { label in
    var h = StreamLogHandler.standardError(label: label)
    h.logLevel = .warning
    return h
}
let smoke = args.contains("--smoke")
let keep = args.contains("--keep")
let only = Helper.option(args, "--only").map { Set($0.split(separator: ",").map(String.init)) }
func selected(_ s: String) -> Bool { only == nil || only!.contains(s) }
let dir = Helper.option(args, "--dir") ?? (NSTemporaryDirectory() + "/logbook-bench-\(UUID().uuidString.prefix(8))")
try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
var config = Config.make(smoke: smoke, dir: dir)
if let sizes = Helper.option(args, "--sizes") { config.growthSizes = sizes.split(separator: ",").compactMap { Int($0) } }
Paths.cliOverride = Helper.option(args, "--cli")
if let runs = Helper.option(args, "--runs").flatMap(Int.init) { config.cliRuns = runs }

print("logbook-bench \(smoke ? "--smoke" : "(full)"): \(ProcessInfo.processInfo.activeProcessorCount) cores, work folder \(dir)")
let started = nowNS()
var rows: [Row] = []
var failures: [String] = []
@MainActor func attempt(_ name: String, _ body: () async throws -> [Row]) async {
    let t0 = nowNS()
    FileHandle.standardError.write(Data("scenario \(name)…\n".utf8))
    do {
        let r = try await body()
        rows += r
        for row in r { log("\(row.id): \(row.logbook) vs \(row.baseline) → \(row.ratioText) (\(row.metText))") }
    } catch {
        failures.append("scenario \(name): \(error)")
        rows.append(Row(id: name, scenario: "scenario \(name) FAILED: \(error)", logbook: "-", baseline: "-", ratio: nil, target: "-", met: false))
    }
    log("scenario \(name) took \(String(format: "%.1f", seconds(nowNS() - t0))) s")
}

if selected("1") { await attempt("1") { [try await SingleWriter.run(config)] } }
if selected("2") { await attempt("2") { try await MultiProcess.run(config) } }
if selected("3") { await attempt("3") { [try await ServerPath.run(config)] } }
if selected("4") { await attempt("4") { try await CLIUpdate.run(config) } }
var growth: [GrowthPoint] = []
if selected("5") || selected("6") || selected("8") || selected("10") || selected("g") {
    await attempt("5/6/8/10 (growth)") {
        growth = try await Growth.run(config)
        var r: [Row] = []
        if selected("5") { r += Growth.verifyRows(growth, config) }
        if selected("6") { r += Growth.statusRows(growth, config) }
        if selected("10") { r += Growth.superviseRows(growth, config) }
        if selected("8"), let p = growth.last {
            r += try Disk.run(config, journal: p.journalPath, events: p.events, size: p.size)
        }
        return r
    }
}
if selected("7") { await attempt("7") { [try await NaiveRewrite.run(config)] } }
if selected("9") { await attempt("9") { try await HTTPServe.run(config, inProcessRate: selected("3") && ServerPath.lastRate > 0 ? ServerPath.lastRate : nil) } }

rows.sort { $0.id.localizedStandardCompare($1.id) == .orderedAscending }
print("")
Table.print(rows)
if !growth.isEmpty { Growth.print(growth) }
print(String(format: "\nwhole run: %.0f s", seconds(nowNS() - started)))
if !keep { try? FileManager.default.removeItem(atPath: dir) }
if !failures.isEmpty {
    for f in failures { FileHandle.standardError.write(Data("logbook-bench: \(f)\n".utf8)) }
    exit(1)
}
