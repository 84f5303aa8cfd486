import ArgumentParser
import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore
import LogbookServer
import Metrics
import Prometheus
import ServiceLifecycle
import Synchronization

/// `logbook demo`: a workspace, five personas, a 12-task plan, and four agent processes working it
/// at the same time while the terminal shows live progress; then verify, validate, freeze (report),
/// archive, and verify again from the gzip segments.
///
/// With `--serve` the workspace is served (`logbook serve`, in this process) and the agents
/// report through it as remote clients with their own keys; the cockpit's URL is printed first,
/// and it keeps serving after the run until Ctrl-C.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo", abstract: "Run four agents on a sample plan in a new workspace and watch it live (--serve: in the web cockpit).")

    @Option(help: ArgumentHelp("Workspace folder (default: a new temporary folder).", valueName: "dir"))
    var workspace: String?

    @Option(help: "Milliseconds between an agent's steps (smaller is faster; default 180, with --serve 700).")
    var step: Int?

    @Flag(help: "Serve the workspace over HTTP while the agents run (they report through it with their own keys); open the printed cockpit URL. Keeps serving until Ctrl-C.")
    var serve = false

    @Option(help: "With --serve: the port (0: any free one).") var port = 8080

    func run() async throws {
        let step = self.step ?? (serve ? 700 : 180)
        let root = try workspace ?? makeTempDirectory()
        let tty = isatty(1) != 0
        let ws = try Workspace.create(at: root)
        let engine = ws.engine
        print("Workspace \(ws.root)")
        try await engine.addPersona(SamplePlan.supervisor, role: .supervisor, archetype: "SUPERVISOR")
        for w in SamplePlan.workers { try await engine.addPersona(w.id, role: .worker, archetype: w.archetype) }
        print("  5 personas with Ed25519 keys: \(SamplePlan.supervisor), " + SamplePlan.workers.map(\.id).joined(separator: ", "))
        let planBytes = PrettyJSON.bytes(SamplePlan.json)
        try Data(planBytes).write(to: URL(fileURLWithPath: ws.root + "/sample_plan.json"))
        let imported = try await engine.importPlan(bytes: planBytes, name: "sample_plan.json")
        let (locked, genesis) = try await engine.lockPlan(imported.id, persona: SamplePlan.supervisor,
                                                      signer: try await engine.signingKey(for: SamplePlan.supervisor))
        print("  plan \(locked.id) imported and locked: \(SamplePlan.tasks.count) tasks, digest \(locked.document.digest.hex.prefix(16))…, genesis \(genesis.hash.hex.prefix(16))…")
        var served: (url: String, group: ServiceGroup, running: Task<Void, any Error>)?
        if serve {
            served = try await startServer(ws)
            print("\n  Cockpit: \(served!.url)/plans/\(locked.id)   (open it now; the agents start in 3 s)\n")
            fflush(nil)  // every stream: a person or a script waiting for the URL sees it now
            try await Task.sleep(for: .seconds(3))
        }
        print("  starting 4 agent processes" + (serve ? " (remote clients of \(served!.url), each signing with its own key)" : "") + "\n")

        let exe = try executablePath()
        var agents: [(String, Process)] = []
        for (i, w) in SamplePlan.workers.enumerated() {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: exe)
            p.arguments = ["demo-agent", "--persona", w.id, "--seed", String(i + 1), "--step", String(step)]
                + (served.map { ["--server", $0.url, "--key-file", ws.keyPath(w.id)] } ?? ["--workspace", ws.root])
            try p.run()
            agents.append((w.id, p))
        }

        let book = try await engine.book(locked)
        let titles = Dictionary(uniqueKeysWithValues: book.plan.tasks.map { ($0.id, $0.title) })
        let started = Date()
        var drawnLines = 0
        var lastPrint = Date.distantPast
        while agents.contains(where: { $0.1.isRunning }) {
            if Date().timeIntervalSince(started) > 300 {
                for (_, p) in agents where p.isRunning { p.terminate() }
                throw LogbookError(.io, "the demo agents did not finish within 300 s")
            }
            let s = try await book.state()
            if tty {
                let table = StatusTable.render(s, titles: titles, color: true)
                print((drawnLines > 0 ? "\u{1B}[\(drawnLines)A\u{1B}[J" : "") + table, terminator: "")
                drawnLines = table.split(separator: "\n", omittingEmptySubsequences: false).count - 1
            } else if Date().timeIntervalSince(lastPrint) > 2 {
                print("  seq \(s.seq): \(StatusTable.format(s.completion)) % complete, " + TaskStatus.allCases.compactMap { st in
                    s.count(st) == 0 ? nil : "\(s.count(st)) \(st.rawValue)" }.joined(separator: ", "))
                lastPrint = Date()
            }
            try await Task.sleep(for: .milliseconds(150))
        }
        for (id, p) in agents where p.terminationStatus != 0 {
            throw LogbookError(.io, "agent \(id) exited with status \(p.terminationStatus)")
        }
        let final = try await book.state()
        if tty {
            print((drawnLines > 0 ? "\u{1B}[\(drawnLines)A\u{1B}[J" : ""), terminator: "")
        }
        print(StatusTable.render(final, titles: titles, color: tty))

        // One refused write, to show what an agent sees when it oversteps.
        do {
            _ = try await book.submit(EventRequest(type: .progress, task: "T03", persona: "DOCS_WRITER", data: ["percent": 50]),
                                      signer: try await engine.signingKey(for: "DOCS_WRITER"))
        } catch let e as LogbookError {
            print("A refused write (DOCS_WRITER reporting on T03, which is CODING_ASSISTANT's):\n  logbook: error: \(e.description)\n")
        }

        try await book.writeSnapshot()
        let report = try await engine.verify(locked)
        guard report.ok else {
            throw LogbookError(.corrupt, "verify failed after the demo: \(report.failure!.description)")
        }
        print("verify OK: \(report.events) events, every signature, hash link and rule checked, head \(report.head!.hex.prefix(16))…\n")

        // The end of the plan's life: validate, freeze (report + checkpoint), archive.
        let sup = SamplePlan.supervisor
        let supKey = try await engine.signingKey(for: sup)
        let validation = try await engine.validate(locked, persona: sup, signer: supKey, note: "demo run")
        print("logbook validate --persona \(sup)")
        print(LifecycleText.criteria(validation.criteria).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        print("  verdict \(validation.verdict) recorded at seq \(validation.event.seq)\n")
        let (frozen, vr) = try await engine.freeze(locked, persona: sup, signer: supKey)
        let (reportJSON, reportMD) = engine.reportNames(locked)
        print("logbook freeze --persona \(sup)")
        print("  frozen at seq \(frozen.seq); every later write is refused")
        print("  wrote \((reportJSON as NSString).lastPathComponent) and \((reportMD as NSString).lastPathComponent) (report_hash \(vr["report_hash"]?.stringValue?.dropFirst(7).prefix(16) ?? "")…) and a signed checkpoint\n")
        let check = try await engine.checkReport(locked)
        print("logbook report --check\n  \(check.ok ? "OK" : "FAILED"): \(check.message)\n")
        let archived = try await engine.archive(locked, persona: sup, signer: supKey)
        print("logbook archive --persona \(sup)")
        print("  journal moved into \(archived.segments) gzip segment(s), \(archived.readOnly.count) files read-only")
        print("  state.txt: g \(archived.g), live status \(archived.nextStatus ?? "none")\n")
        let last = try await engine.verify(locked)
        guard last.ok else { throw LogbookError(.corrupt, "verify failed after archive: \(last.failure!.description)") }
        let elapsed = Date().timeIntervalSince(started)
        print("verify OK after archive: \(last.events) events read back from the gzip segments (\(String(format: "%.1f", elapsed)) s in all)\n")
        let w = ws.root
        let gz = archived.readOnly.filter { $0.hasSuffix(".jsonl.gz") }.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")
        let files: [(String, String)] = [
            ("exec_plan_\(locked.g).txt", "the locked plan (digest-bound)"),
            (gz, "the signed, hash-chained journal (\(last.events) events), gzip"),
            ("exec_status_\(locked.g).segments.json", "the segment manifest"),
            ("exec_status_\(locked.g).txt", "the snapshot (HAIOS exec_status), ARCHIVED"),
            ("exec_status_\(locked.g).checkpoint", "the latest signed checkpoint (C2SP tlog-checkpoint)"),
            ("validation_report_\(locked.g).json/.md", "the Validation Report"),
            ("state.txt, personas.json, keys/", ""),
        ]
        let width = files.map(\.0.count).max() ?? 0
        print("Files in \(w):")
        for (name, what) in files { print("  " + name + String(repeating: " ", count: width - name.count + 2) + what) }
        print("""
            Inspect it:
              logbook status  --workspace \(w)
              logbook log     --workspace \(w) --task T03
              logbook report  --workspace \(w)
              logbook verify  --workspace \(w)
              logbook task progress T05 --percent 10 --persona TEST_ENGINEER --workspace \(w)   # refused: archived
            """)
        if let served {
            print("\nServing the cockpit at \(served.url)/ until Ctrl-C.")
            try await served.running.value
        }
    }

    /// `logbook serve` on the workspace in this process, on loopback; returns once it listens.
    func startServer(_ ws: Workspace) async throws -> (url: String, group: ServiceGroup, running: Task<Void, any Error>) {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(LogbookServer.metricsFactory(registry: registry))
        let server = LogbookServer(engine: ws.engine(.init(observeCommit: ServerMetrics.observeCommit)),
                                   configuration: .init(port: port), registry: registry)
        let (ports, listening) = AsyncStream.makeStream(of: Int.self)
        let group = ServiceGroup(configuration: .init(services: [server.service { _, p in listening.yield(p) }],
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: .init(label: "logbook.demo")))
        let running = Task { try await group.run() }
        var it = ports.makeAsyncIterator()
        guard let p = await it.next() else { throw LogbookError(.io, "the demo server did not start") }
        return ("http://127.0.0.1:\(p)", group, running)
    }

    func makeTempDirectory() throws -> String {
        var template = Array((NSTemporaryDirectory() + "/logbook-demo-XXXXXX").utf8CString)
        guard let p = mkdtemp(&template) else { throw LogbookError(.io, "cannot create a temporary folder") }
        return String(cString: p)
    }

    func executablePath() throws -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        if n > 0 { return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        return CommandLine.arguments[0]
    }
}
