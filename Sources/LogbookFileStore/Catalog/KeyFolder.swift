#if canImport(Glibc)
import Glibc
#endif
import LogbookCore
import LogbookEngine

/// A ``SignerSource`` over a workspace's key folder: `keys/<persona>.key`, one base64 Ed25519
/// seed per file, mode 0600.
///
/// A key file is opened once, never through a symbolic link and only if it is a regular file,
/// so the mode checked is the mode of the file read; a key others can read is refused, as ssh
/// does.
///
/// ```swift
/// let key = try await KeyFolder(directory: "/srv/ws/keys").signingKey(for: "SUPERVISOR")
/// ```
public struct KeyFolder: RotatingSignerSource {
    public let directory: String
    let ops: any FileOps

    public init(directory: String, ops: any FileOps = PosixFileOps()) {
        self.directory = directory
        self.ops = ops
    }

    public func keyPath(_ persona: String) -> String { directory + "/\(persona).key" }

    public func signingKey(for persona: String) async throws -> SigningKey {
        try Identifier.check(persona, "persona id")
        return try KeyFileReader(ops: ops).read(keyPath(persona), persona: persona)
    }

    /// Creates `keys/<persona>.key` (mode 0600); `.alreadyExists` if the persona has one.
    public func storeNewKey(_ key: SigningKey) async throws {
        try Identifier.check(key.persona, "persona id")
        if mkdir(directory, 0o700) != 0 && errno != EEXIST { throw osError("mkdir", directory) }
        try AtomicFile(ops: ops).create(keyPath(key.persona), Array(key.fileText.utf8), mode: 0o600)
    }
}

extension KeyFolder {
    /// `keys/<persona>.key.rotating`: the next key while a rotation is under way.
    public func pendingKeyPath(_ persona: String) -> String { keyPath(persona) + ".rotating" }

    public func pendingKey(for persona: String) async throws -> SigningKey? {
        try Identifier.check(persona, "persona id")
        guard access(pendingKeyPath(persona), F_OK) == 0 else { return nil }
        return try KeyFileReader(ops: ops).read(pendingKeyPath(persona), persona: persona)
    }

    public func storePendingKey(_ key: SigningKey) async throws {
        try Identifier.check(key.persona, "persona id")
        try AtomicFile(ops: ops).write(pendingKeyPath(key.persona), Array(key.fileText.utf8), mode: 0o600)
    }

    /// Renames `.rotating` over `keys/<persona>.key` and makes the rename durable.
    public func commitPendingKey(for persona: String) async throws {
        try Identifier.check(persona, "persona id")
        try ops.rename(pendingKeyPath(persona), keyPath(persona))
        try AtomicFile(ops: ops).syncDirectory(of: keyPath(persona))
    }
}

/// Reads one private key file with the checks every key source makes.
struct KeyFileReader {
    let ops: any FileOps

    /// - Throws: `.badKey` when there is no file (naming it and how to give one), when others
    ///   can read it (with the chmod to run), or when it holds no key; `.corrupt` for a symbolic
    ///   link, a folder or a FIFO.
    func read(_ path: String, persona: String) throws -> SigningKey {
        let fd: Int32
        do { fd = try ops.openRegular(path, O_RDONLY, 0) } catch {
            if error.code == .notFound {
                throw LogbookError(.badKey, "no private key for persona \(persona) at \(path) (pass --key-file or set LOGBOOK_KEY_FILE)")
            }
            throw error
        }
        defer { ops.close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw osError("fstat", path) }
        if st.st_mode & 0o077 != 0 {
            throw LogbookError(.badKey, "key file \(path) is readable by others (mode \(String(st.st_mode & 0o777, radix: 8))); run chmod 600 \(path)")
        }
        let bytes = try ops.readCatalogFile(fd: fd, path: path)
        do { return try SigningKey(persona: persona, fileText: String(decoding: bytes, as: UTF8.self)) } catch let e as LogbookError {
            throw LogbookError(e.code, "\(e.message) (\(path))")
        }
    }
}
