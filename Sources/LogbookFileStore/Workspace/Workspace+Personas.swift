#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LogbookCore

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
