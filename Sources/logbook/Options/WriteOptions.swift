import ArgumentParser
import Foundation
import LogbookCore
import LogbookClient
import LogbookEngine
import LogbookFileStore

/// Options every task verb takes, and the one function that records an event from the CLI.
struct WriteOptions: ParsableArguments {
    @OptionGroup var who: PersonaOptions

    @Option(help: ArgumentHelp("Plan id (default: the plan state.txt points at).", valueName: "id"))
    var plan: String?

    @OptionGroup var ws: WorkspaceOptions

    @Option(name: .customLong("idempotency-key"), help: ArgumentHelp("A repeat with the same key and content returns the first event; other content is refused.", valueName: "key"))
    var idempotencyKey: String?

    @Option(name: .customLong("expect-seq"), help: ArgumentHelp("Refuse with a conflict unless the task's last event is this seq.", valueName: "seq"))
    var expectSeq: Int?

    @Option(name: .customLong("trace-id"), help: ArgumentHelp("W3C trace id (default: from $TRACEPARENT).", valueName: "hex"))
    var traceID: String?

    @Flag(help: "Print the accepted event as JSON.")
    var json = false

    @Flag(help: "With --server: when the server cannot be reached, keep the signed statement in the outbox ($LOGBOOK_OUTBOX, else ./outbox) and exit 11.")
    var outbox = false

    @Flag(name: .customLong("async"), help: "With --server: sign, keep the statement in the outbox and return at once (exit 11); `logbook outbox flush --follow` sends it.")
    var async = false

    /// Records one event and prints it; returns only once it is durable.
    func record(_ type: EventType, task: String?, data: JSONObject) async throws {
        if let task { try Identifier.check(task, "task id") }
        if let expectSeq { try nonNegative(expectSeq, "--expect-seq", task: task) }
        if let remote = try ws.remote() {
            return try await recordRemotely(remote, type, task: task, data: data)
        }
        if outbox || async { throw LogbookError(.usage, "--outbox and --async keep statements for a server: give --server URL (or set LOGBOOK_SERVER)") }
        let w = try ws.open()
        let persona = try who.resolvedPersona()
        let file = try await w.plan(plan)
        let key = try await who.signer(in: w, persona: persona)
        let trace = traceID ?? Self.traceparent(ProcessInfo.processInfo.environment["TRACEPARENT"])
        let book = try await w.book(file)
        let signer = try await who.duringRotation(key, in: w, persona: persona) { try await book.state().personas[persona]?.keyID }
        let request = EventRequest(type: type, task: task, persona: persona, data: data, idempotencyKey: idempotencyKey,
                                   expectedTaskSeq: expectSeq, traceID: trace)
        printEvent(try await book.submit(request, signer: signer))
    }

    func printEvent(_ e: Event) {
        if json {
            print(String(decoding: CanonicalJSON.bytes(e.json), as: UTF8.self))
        } else {
            print(EventText.line(e))
        }
    }

    /// The same event through a server: the statement is made and signed here (the key never
    /// leaves this process), with `seen` = the head the server reports, and posted.
    func recordRemotely(_ remote: RemoteLogbook, _ type: EventType, task: String?, data: JSONObject) async throws {
        let persona = try who.resolvedPersona()
        let key = try await who.remoteSigner(persona: persona)
        let box = Outbox(folder: Outbox.folder())
        let queueing = outbox || async || ProcessInfo.processInfo.environment["LOGBOOK_OUTBOX"] != nil
        let summary: JSONObject
        do {
            summary = try await remote.planSummary(plan)
            if queueing { box.remember(summary, server: remote.base, selector: plan) }
        } catch let e as LogbookError where e.code == .unavailable && queueing {
            // Away: sign against the head last seen (a late statement is still a valid one).
            guard let known = box.recall(server: remote.base, selector: plan) else {
                throw LogbookError(.unavailable, e.message + "; nothing was queued: this outbox has never seen the plan's head on that server", facts: e.facts)
            }
            summary = known
        }
        guard let planID = summary["plan_id"]?.stringValue, summary["status_id"]?.stringValue != nil else {
            throw LogbookError(.notLocked, "plan \(summary["plan_id"]?.stringValue ?? plan ?? "?") is a DRAFT; lock it first", plan: summary["plan_id"]?.stringValue)
        }
        guard let seq = summary["head_seq"]?.intValue, let hash = summary["head_hash"]?.stringValue.flatMap(Digest256.init) else {
            throw LogbookError(.corrupt, summary["error"]?.stringValue ?? "the server reports no head for plan \(planID)", plan: planID)
        }
        let trace = traceID ?? Self.traceparent(ProcessInfo.processInfo.environment["TRACEPARENT"])
        let statement = Statement(plan: planID, task: task, persona: persona, keyID: key.publicKey.keyID, type: type, data: data,
                                  traceID: trace, idempotencyKey: idempotencyKey, expectTaskSeq: expectSeq,
                                  at: Timestamp.string(Date()), seen: .init(seq: seq, hash: hash))
        let signed = SignedStatement(statement, signer: key)
        if async {
            let name = try box.put(signed, plan: planID, server: remote.base)
            throw Queued(entry: name, folder: box.folder, plan: planID, why: "--async")
        }
        do {
            printEvent(try await remote.submit(planID, signed).event)
        } catch let e as LogbookError where e.code == .unavailable && queueing {
            let name = try box.put(signed, plan: planID, server: remote.base)
            throw Queued(entry: name, folder: box.folder, plan: planID, why: "the server cannot be reached: \(e.message)")
        }
    }

    /// The trace id of a `TRACEPARENT` from the environment. W3C trace-context: a receiver that
    /// cannot parse a traceparent ignores it (and starts a new trace), so an invalid one is
    /// ignored with a warning on stderr, never fatal. `--trace-id` stays strict: it is an
    /// explicit argument.
    static func traceparent(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        if let t = TraceID.fromTraceparent(value) { return t }
        Warning.print("ignoring TRACEPARENT \"\(value)\": not a W3C traceparent (version-traceid-parentid-flags, non-zero ids)")
        return nil
    }
}
