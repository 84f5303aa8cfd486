import ArgumentParser
import Foundation
import LogbookCore
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

    /// Records one event and prints it; returns only once it is durable.
    func record(_ type: EventType, task: String?, data: JSONObject) async throws {
        if let task { try Identifier.check(task, "task id") }
        if let expectSeq { try nonNegative(expectSeq, "--expect-seq", task: task) }
        let w = try ws.open()
        let persona = try who.resolvedPersona()
        let file = try await w.plan(plan)
        let key = try await who.signer(in: w, persona: persona)
        let trace = traceID ?? Self.traceparent(ProcessInfo.processInfo.environment["TRACEPARENT"])
        let book = try await w.book(file)
        let signer = try await who.duringRotation(key, in: w, persona: persona) { try await book.state().personas[persona]?.keyID }
        let request = EventRequest(type: type, task: task, persona: persona, data: data, idempotencyKey: idempotencyKey,
                                   expectedTaskSeq: expectSeq, traceID: trace)
        let e = try await book.submit(request, signer: signer)
        if json {
            print(String(decoding: CanonicalJSON.bytes(e.json), as: UTF8.self))
        } else {
            print(EventText.line(e))
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
