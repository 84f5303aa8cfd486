import ArgumentParser
import Foundation
import LogbookCore
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
        if let expectSeq, expectSeq < 0 { throw LogbookError(.badInput, "--expect-seq must be ≥ 0, got \(expectSeq)", task: task) }
        let w = try ws.open()
        let persona = try who.resolvedPersona()
        let file = try w.plan(plan)
        let signer = try who.signer(in: w, persona: persona)
        let trace = try traceID ?? ProcessInfo.processInfo.environment["TRACEPARENT"].flatMap { tp in
            guard !tp.isEmpty else { return nil }
            guard let t = TraceID.fromTraceparent(tp) else { throw LogbookError(.badInput, "TRACEPARENT \"\(tp)\" is not a W3C traceparent") }
            return t
        }
        let book = try await w.book(file)
        let request = EventRequest(type: type, task: task, persona: persona, data: data, idempotencyKey: idempotencyKey,
                                   expectedTaskSeq: expectSeq, traceID: trace)
        let e = try await book.submit(request, signer: signer)
        if json {
            print(String(decoding: CanonicalJSON.bytes(e.json), as: UTF8.self))
        } else {
            print(EventText.line(e))
        }
    }
}

/// Text options are checked for size before anything is read or written.
func text(_ value: String, _ name: String, task: String? = nil) throws -> JSONValue {
    guard value.utf8.count <= Event.maxTextBytes else {
        throw LogbookError(.badInput, "--\(name) is \(value.utf8.count) bytes; the limit is \(Event.maxTextBytes) bytes", task: task, rule: "size_limit")
    }
    return .string(value)
}
