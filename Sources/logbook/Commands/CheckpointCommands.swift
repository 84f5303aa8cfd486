import ArgumentParser
import Foundation
import LogbookCore
import LogbookEngine
import LogbookFileStore

/// `logbook checkpoint`: a signed tree head of a plan's journal (C2SP tlog-checkpoint).
struct CheckpointCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Write a signed checkpoint of a plan's journal (C2SP tlog-checkpoint) and print it.",
        discussion: """
            The checkpoint fixes the journal's first N events by their RFC 6962 Merkle root. Keep a \
            copy away from the workspace: `logbook verify --checkpoint FILE` then detects a journal \
            cut short (truncated) or rewritten (forked). The journal is verified first; a supervisor \
            signs, other personas of the plan may co-sign. Written to exec_status_<g>.checkpoint and \
            exec_status_<g>.checkpoints/<N>.txt.
            """)
    @Argument(help: "Plan id (default: the live plan).") var planArgument: String?
    @Option(help: "Plan id.") var plan: String?
    @OptionGroup var who: PersonaOptions
    @Option(name: .customLong("cosign"), help: ArgumentHelp("Another persona of the plan that co-signs (key in keys/<persona>.key); repeatable.", valueName: "persona"))
    var cosign: [String] = []
    @OptionGroup var ws: WorkspaceOptions

    func run() async throws {
        let w = try ws.open()
        let file = try await w.plan(argument: planArgument, option: plan)
        let persona = try who.resolvedPersona()
        guard let signer = try await who.signer(in: w, persona: persona) else {
            throw LogbookError(.badKey, "persona \(persona) has no key; a checkpoint must be signed", plan: file.id)
        }
        var signers = [signer]
        for p in cosign {
            try Identifier.check(p, "persona id")
            guard !signers.contains(where: { $0.persona == p }) else { continue }
            signers.append(try await w.signingKey(for: p))
        }
        let cp = try await w.writeCheckpoint(file, signers: signers)
        print(cp.text, terminator: "")
        FileHandle.standardError.write(Data("wrote exec_status_\(file.g).checkpoint: plan \(file.id), \(cp.summary)\n".utf8))
    }
}

/// `logbook prove SEQ`: an inclusion proof for one event.
struct ProveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prove",
        abstract: "Print an inclusion proof (JSON) that the event at SEQ is in the journal a signed checkpoint covers.",
        discussion: "Check it anywhere with `logbook verify-proof FILE` (needs only personas.json).")
    @Argument(help: "The event's seq.") var seq: Int
    @Option(help: "Plan id (default: the checkpoint's plan, else the live plan).") var plan: String?
    @Option(help: ArgumentHelp("Checkpoint file to prove against (default: the latest stored one).", valueName: "file"))
    var checkpoint: String?
    @Option(name: .shortAndLong, help: ArgumentHelp("Write the proof to this file instead of standard output.", valueName: "file"))
    var output: String?
    @OptionGroup var ws: WorkspaceOptions

    func run() async throws {
        let w = try ws.open()
        let cp = try checkpoint.map { try CheckpointFile.read($0) }
        let file = try await w.plan(plan ?? cp.flatMap(planID(fromOrigin:)))
        let proof = try await w.inclusionProof(file, seq: seq, checkpoint: cp)
        try emit(PrettyJSON.bytes(proof.json), to: output)
    }
}

/// `logbook consistency OLD NEW`: a consistency proof between two checkpoints.
struct ConsistencyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consistency",
        abstract: "Check that two checkpoints of a plan are consistent (the newer extends the older) and print the proof (JSON).",
        discussion: "The proof is built from the journal, which must match both; `logbook verify-proof FILE` checks it without the journal.")
    @Argument(help: "The older checkpoint file.") var old: String
    @Argument(help: "The newer checkpoint file.") var new: String
    @Option(help: "Plan id (default: the checkpoints' plan).") var plan: String?
    @Option(name: .shortAndLong, help: ArgumentHelp("Write the proof to this file instead of standard output.", valueName: "file"))
    var output: String?
    @OptionGroup var ws: WorkspaceOptions

    func run() async throws {
        let w = try ws.open()
        let a = try CheckpointFile.read(old)
        let b = try CheckpointFile.read(new)
        let file = try await w.plan(plan ?? planID(fromOrigin: a))
        let proof = try await w.consistencyProof(file, from: a, to: b)
        try emit(PrettyJSON.bytes(proof.json), to: output)
        FileHandle.standardError.write(Data("consistent: plan \(file.id), checkpoint at size \(proof.old.size) is a prefix of the one at size \(proof.new.size)\n".utf8))
    }
}

/// `logbook verify-proof FILE`: checks a proof without the journal.
struct VerifyProofCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-proof",
        abstract: "Check an inclusion or consistency proof without the journal, trusting the keys in personas.json.")
    @Argument(help: "Proof file from `logbook prove` or `logbook consistency` (- for standard input).") var proofFile: String
    @Option(help: ArgumentHelp("personas.json to trust (default: the workspace's).", valueName: "file")) var personas: String?
    @OptionGroup var ws: WorkspaceOptions

    func run() async throws {
        let registry: PersonaRegistry
        if let personas {
            let bytes = try readInput(personas)
            let json: JSONValue
            do { json = try JSONParser.parse(bytes) } catch { throw LogbookError(.badInput, "\(personas) is not valid JSON: \(error)") }
            registry = try PersonaRegistry(json: json)
        } else {
            registry = try await ws.open().personas()
        }
        let json: JSONValue
        do { json = try JSONParser.parse(try readInput(proofFile)) } catch let e as JSONParseError {
            throw LogbookError(.badInput, "\(proofFile) is not valid JSON: \(e)")
        }
        switch json["type"]?.stringValue {
        case ConsistencyProof.type:
            let p = try ConsistencyProof(json: json)
            try p.verify(registry: registry)
            print("proof OK: plan \(p.plan), the checkpoint at size \(p.old.size) is a prefix of the one at size \(p.new.size) (\(p.new.summary))")
        default:
            let p = try InclusionProof(json: json)
            let signers = try p.verify(registry: registry)
            print("proof OK: plan \(p.plan), seq \(p.seq) (\(p.eventHash)) is in the checkpoint at size \(p.treeSize), signed by \(signers.map(\.id).joined(separator: ", "))")
        }
    }
}

/// The plan id at the end of a `logbook/<workspace id>/<plan id>` origin.
fileprivate func planID(fromOrigin cp: Checkpoint) -> String? {
    guard cp.origin.hasPrefix("logbook/"), let id = cp.origin.split(separator: "/").last.map(String.init),
          Identifier.isValid(id) else { return nil }
    return id
}

/// A file's bytes, or standard input for `-`.
fileprivate func readInput(_ path: String) throws -> [UInt8] {
    if path == "-" { return Array(FileHandle.standardInput.readDataToEndOfFile()) }
    guard let d = FileManager.default.contents(atPath: path) else { throw LogbookError(.notFound, "cannot read \(path)") }
    return Array(d)
}

/// Writes to `path` (atomically enough for a user's file), or standard output when nil.
fileprivate func emit(_ bytes: [UInt8], to path: String?) throws {
    guard let path else {
        FileHandle.standardOutput.write(Data(bytes))
        return
    }
    do { try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
        throw LogbookError(.io, "cannot write \(path): \(error.localizedDescription)")
    }
}
