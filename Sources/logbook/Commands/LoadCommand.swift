import ArgumentParser
import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore

/// A long-lived writer for durability tests and benchmarks: appends `count` progress events to
/// one task and records every acknowledgement (seq and hash) in an ack file, written only after
/// the event is durable, so a test that kills this process knows what must survive.
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "append-load", abstract: "Append many events (durability tests and benchmarks).", shouldDisplay: false)

    @Option var persona: String
    @Option var task: String
    @Option var count: Int = 100
    @Option(help: "Concurrent appenders in this process (group commit).") var concurrency: Int = 1
    @Option(name: .customLong("ack-file"), help: "Append `seq hash` per acknowledged event here.") var ackFile: String?
    @Option(name: .customLong("note-bytes"), help: "Pad each event's note to about this many bytes.") var noteBytes: Int = 120
    @OptionGroup var ws: WorkspaceOptions

    func run() async throws {
        let w = try ws.open()
        let book = try await w.book(try await w.plan(nil))
        let key = try await w.signingKey(for: persona)
        if try await book.state().task(task)?.status == .pending {
            _ = try await book.submit(EventRequest(type: .started, task: task, persona: persona), signer: key)
        }
        let ack: FileHandle? = try ackFile.map { path in
            if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
            let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            h.seekToEndOfFile()
            return h
        }
        let note = String(repeating: "x", count: max(0, noteBytes))
        let persona = self.persona, task = self.task, count = self.count, lanes = max(1, concurrency)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<lanes {
                group.addTask {
                    var i = lane
                    while i < count {
                        let e = try await book.submit(EventRequest(type: .progress, task: task, persona: persona,
                                                                   data: ["percent": JSONValue(i % 101), "note": .string(note)]), signer: key)
                        ack?.write(Data("\(e.seq) \(e.hash.hex)\n".utf8))
                        i += lanes
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
