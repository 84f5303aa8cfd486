#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LogbookCore
import LogbookEngine

extension Workspace {
    public func personas() throws -> PersonaRegistry {
        let bytes = try readFile(personasPath)
        let json: JSONValue
        do { json = try JSONParser.parse(bytes) } catch {
            throw LogbookError(.badInput, "personas.json is not valid JSON: \(error)")
        }
        return try PersonaRegistry(json: json)
    }

    /// Registers a persona: a new Ed25519 key pair (private key in keys/NAME.key, mode 0600) or,
    /// with `signed: false`, an unsigned persona.
    @discardableResult
    public func addPersona(_ id: String, role: PersonaRole, archetype: String? = nil, signed: Bool = true) async throws -> Persona {
        try Identifier.check(id, "persona id")
        let arch = archetype ?? id
        try Identifier.check(arch, "archetype")
        return try await withWorkspaceLock {
            var registry = try personas()
            if registry[id] != nil { throw LogbookError(.alreadyExists, "persona \(id) already exists in personas.json") }
            if !signed && !registry.allowUnsigned {
                throw LogbookError(.badInput, "this workspace does not accept unsigned personas (create it with `logbook init --allow-unsigned`)")
            }
            var key: SigningKey? = nil
            if signed {
                let k = SigningKey(generatingFor: id)
                try AtomicFile(ops: ops).create(keyPath(id), Array(k.fileText.utf8), mode: 0o600)
                key = k
            }
            let p = Persona(id: id, role: role, archetype: arch, publicKey: key?.publicKey)
            registry.personas[id] = p
            try AtomicFile(ops: ops).write(personasPath, PrettyJSON.bytes(registry.json()))
            return p
        }
    }

    /// The private key of `persona`: from `keyFile` if given, else `keys/<persona>.key`.
    /// Refuses key files that others can read, as ssh does.
    public func signingKey(for persona: String, keyFile: String? = nil) throws -> SigningKey {
        try Identifier.check(persona, "persona id")
        let path = keyFile ?? keyPath(persona)
        // Opened once, never through a symbolic link, and only a regular file: the mode checked
        // is the mode of the file read.
        let fd = try openKeyFile(path, persona: persona)
        defer { ops.close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw osError("fstat", path) }
        if st.st_mode & 0o077 != 0 {
            throw LogbookError(.badKey, "key file \(path) is readable by others (mode \(String(st.st_mode & 0o777, radix: 8))); run chmod 600 \(path)")
        }
        let bytes = try store.readAll(fd)
        do { return try SigningKey(persona: persona, fileText: String(decoding: bytes, as: UTF8.self)) } catch let e as LogbookError {
            throw LogbookError(e.code, "\(e.message) (\(path))")
        }
    }

    func openKeyFile(_ path: String, persona: String) throws(LogbookError) -> Int32 {
        do { return try ops.openRegular(path, O_RDONLY, 0) } catch {
            if error.code == .notFound {
                throw LogbookError(.badKey, "no private key for persona \(persona) at \(path) (pass --key-file or set LOGBOOK_KEY_FILE)")
            }
            throw error
        }
    }
}

/// `personas.json` for `verify`: the registry, or the finding that it is damaged.
public enum TrustRoots: Sendable {
    case registry(PersonaRegistry)
    case damaged(VerifyReport.Failure)
}

extension Workspace {
    /// `personas.json` as `verify` needs it: the trust roots, or, when the file is damaged (not
    /// JSON, a malformed or mismatched key), a verification failure (kind `key_swapped`, exit 6)
    /// that names what the plan's genesis recorded for the persona concerned, not a bad-input
    /// error: the file is stored data the journal's check depends on.
    public func trustRoots(verifying file: PlanFile) async throws -> TrustRoots {
        do {
            return .registry(try personas())
        } catch let e as LogbookError where e.code == .badInput {
            let recorded = try? await genesisPersonas(file)
            let persona = damagedPersona(at: e.path)
            var said = ""
            if let recorded {
                if let persona, let entry = recorded[persona] {
                    said = "; the genesis recorded \(persona) as \(Self.describe(entry))"
                } else {
                    said = "; the genesis recorded " + recorded.map { "\($0.key) as \(Self.describe($0.value))" }.joined(separator: ", ")
                }
            }
            let at = e.path.map { " at \($0)" } ?? ""
            return .damaged(VerifyReport.Failure(seq: 0, kind: .keySwapped, message: "the trust roots are damaged: \(e.message)\(at)\(said)"))
        }
    }

    /// The personas (role, archetype, key id) the genesis of `file` recorded.
    func genesisPersonas(_ file: PlanFile) async throws -> JSONObject? {
        guard let first = try await store.read(file.journalRef, from: 0, limit: 1).first else { return nil }
        return try Event(line: first.bytes).data["personas"]?.objectValue
    }

    /// The persona id at `personas[i]…` of personas.json, if the file still parses that far.
    func damagedPersona(at path: String?) -> String? {
        guard let path, path.hasPrefix("personas["), let close = path.firstIndex(of: "]"),
              let i = Int(path[path.index(path.startIndex, offsetBy: 9)..<close]),
              let json = try? JSONParser.parse(readFile(personasPath)),
              let list = json["personas"]?.arrayValue, i < list.count
        else { return nil }
        return list[i]["id"]?.stringValue
    }

    static func describe(_ entry: JSONValue) -> String {
        "\(entry["role"]?.stringValue ?? "?") \(entry["archetype"]?.stringValue ?? "?") with key \(entry["key_id"]?.stringValue ?? "none")"
    }
}
