import Foundation
import LogbookClient
import LogbookCore

/// Signed statements waiting for a server (ADR-OS-028's partition case, ADR-024's asynchronous
/// updates): one file per statement in a folder, in the order they were queued.
///
/// Each entry is written durably before the command returns (a temporary file, `fsync`, rename,
/// `fsync` of the folder), so a queued statement survives a crash. An entry holds the statement
/// exactly as signed, its signature, the plan and the server it is for; never a key. Sending it
/// twice records it once (the server returns the first event for the same signed statement).
struct Outbox {
    let folder: String

    /// `--outbox` / `--async`: `$LOGBOOK_OUTBOX`, else `./outbox`.
    static func folder(explicit: String? = nil) -> String {
        explicit ?? ProcessInfo.processInfo.environment["LOGBOOK_OUTBOX"].flatMap { $0.isEmpty ? nil : $0 } ?? "outbox"
    }

    struct Entry {
        var name: String
        var server: String
        var plan: String
        var statement: SignedStatement
    }

    /// Stores `s` durably; returns the entry's file name.
    func put(_ s: SignedStatement, plan: String, server: String) throws -> String {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // Names sort in queue order: nanoseconds since 1970, then the process id and a digest.
        let ns = UInt64(Date().timeIntervalSince1970 * 1e9)
        let name = String(format: "%020llu-%08d-%@.json", ns, getpid(), String(s.digest.hex.prefix(12)))
        var o = JSONObject([("server", .string(server)), ("plan", .string(plan)), ("stmt", try JSONParser.parse(s.bytes))])
        if let sig = s.sig { o["sig"] = .string(Base64.encode(sig)) }
        var bytes = CanonicalJSON.bytes(.object(o))
        bytes.append(0x0A)
        let tmp = folder + "/." + name + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw LogbookError(.io, "cannot create \(tmp): \(String(cString: strerror(errno)))", path: tmp) }
        let ok = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count && fsync(fd) == 0
        close(fd)
        guard ok, rename(tmp, folder + "/" + name) == 0 else {
            unlink(tmp)
            throw LogbookError(.io, "cannot write the outbox entry \(name) in \(folder)", path: folder)
        }
        let dfd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
        return name
    }

    /// The entries in queue order (a damaged one is reported, not skipped silently).
    func entries() throws -> [Entry] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        return try names.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted().map { name in
            let path = folder + "/" + name
            let bytes = Array(FileManager.default.contents(atPath: path) ?? Data())
            guard let v = try? JSONParser.parse(bytes), let server = v["server"]?.stringValue, let plan = v["plan"]?.stringValue,
                  let stmt = v["stmt"] else {
                throw LogbookError(.corrupt, "the outbox entry \(name) is not an entry (server, plan, stmt, sig); move it away to go on", path: path)
            }
            let sig = try v["sig"].map { s -> [UInt8] in
                guard let t = s.stringValue, let b = Base64.decode(t) else { throw LogbookError(.corrupt, "the outbox entry \(name) has a bad sig", path: path) }
                return b
            }
            return Entry(name: name, server: server, plan: plan, statement: try SignedStatement(bytes: CanonicalJSON.bytes(stmt), sig: sig))
        }
    }

    func remove(_ e: Entry) { unlink(folder + "/" + e.name) }

    /// The plan summary last seen from `server` for `selector` (plan id, head), kept so a write
    /// can still be signed and queued while the server is away.
    func remember(_ summary: JSONObject, server: String, selector: String?) {
        var known = (FileManager.default.contents(atPath: knownPath).flatMap { try? JSONParser.parse(Array($0)).objectValue }) ?? JSONObject()
        known[Self.knownKey(server, selector)] = .object(summary)
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try? Data(CanonicalJSON.bytes(.object(known))).write(to: URL(fileURLWithPath: knownPath), options: .atomic)
    }

    func recall(server: String, selector: String?) -> JSONObject? {
        let known = FileManager.default.contents(atPath: knownPath).flatMap { try? JSONParser.parse(Array($0)).objectValue }
        return known?[Self.knownKey(server, selector)]?.objectValue
    }

    var knownPath: String { folder + "/.known-heads.json" }
    static func knownKey(_ server: String, _ selector: String?) -> String { server + " " + (selector ?? "(current)") }

    /// Moves an entry the server refused to `refused/` (kept, with the reason beside it).
    func setAside(_ e: Entry, reason: LogbookError) {
        let dir = folder + "/refused"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        rename(folder + "/" + e.name, dir + "/" + e.name)
        try? (CanonicalJSON.string(reason.json) + "\n").write(toFile: dir + "/" + e.name + ".error", atomically: true, encoding: .utf8)
    }
}

/// A statement kept in the outbox instead of recorded: exit 11, a line saying where and why.
struct Queued: Error {
    var entry: String
    var folder: String
    var plan: String
    var why: String

    var message: String { "queued \(entry) in \(folder) (\(why)); `logbook outbox flush` sends it (recorded once however often it is sent)" }
}
