#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LogbookCore
import LogbookEngine

/// The ``ArtifactStore`` of a workspace folder: one file per artifact beside the journal
/// (docs/FORMAT.md §1, ``Artifact/standardName(g:)``), each written whole by temp file, fsync and
/// rename. The checkpoint history lives in `exec_status_<g>.checkpoints/` (created mode 0755 when
/// the first one is stored), migration backups in `migrated/`.
///
/// ``seal(_:)`` (archive) makes the plan's artifact files read-only (mode 0444); a sealed file is
/// never replaced (`store` refuses it with `.locked`).
///
/// ```swift
/// let artifacts = FileArtifactStore(root: "/srv/ws")
/// try await artifacts.store(.reportJSON, of: ref, bytes)
/// ```
public struct FileArtifactStore: ArtifactStore {
    public let root: String
    let ops: any FileOps

    public init(root: String, ops: any FileOps = PosixFileOps()) {
        var r = root
        while r.count > 1, r.hasSuffix("/") { r.removeLast() }
        self.root = r
        self.ops = ops
    }

    /// The file that holds `artifact` of `ref`.
    public func path(_ artifact: Artifact, of ref: JournalRef) -> String {
        root + "/" + artifact.standardName(g: ref.g)
    }

    /// `exec_status_<g>.checkpoints`, the checkpoint history.
    public func checkpointDirectory(_ ref: JournalRef) -> String { root + "/exec_status_\(ref.g).checkpoints" }

    func lockPath(_ ref: JournalRef) -> String { root + "/.exec_status_\(ref.g).checkpoint.lock" }

    public func load(_ artifact: Artifact, of ref: JournalRef) async throws -> [UInt8]? {
        do { return try ops.readCatalogFile(path(artifact, of: ref)) } catch let e as LogbookError where e.code == .notFound {
            return nil
        }
    }

    public func store(_ artifact: Artifact, of ref: JournalRef, _ bytes: [UInt8]) async throws {
        let p = path(artifact, of: ref)
        var st = stat()
        if lstat(p, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_mode & 0o222 == 0 {
            throw LogbookError(.locked, "\(artifact.standardName(g: ref.g)) is read-only (plan \(ref.planID) is archived); it is not replaced (nothing written)",
                               plan: ref.planID, path: artifact.standardName(g: ref.g))
        }
        let dir = Paths.directory(of: p)
        if dir != root, mkdir(dir, 0o755) != 0, errno != EEXIST { throw osError("mkdir", dir) }
        try AtomicFile(ops: ops).write(p, bytes)
    }

    public func checkpointSizes(of ref: JournalRef) async throws -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: checkpointDirectory(ref))) ?? []
        return names.compactMap { n in n.hasSuffix(".txt") ? Int(n.dropLast(4)) : nil }.sorted()
    }

    /// Holds `.exec_status_<g>.checkpoint.lock` (flock; tasks of this process queue without
    /// blocking a thread). Not reentrant: a task that holds it and asks again gets `.conflict`.
    public func exclusive<T: Sendable>(checkpointsOf ref: JournalRef, _ body: @Sendable () async throws -> T) async throws -> T {
        try await FileLock.named(lockPath(ref)).withLock(ops: ops, body)
    }

    /// Makes every artifact file of the plan that exists read-only (mode 0444): the latest
    /// checkpoint, the history, the reports, the migration backups. Returns their paths.
    public func seal(_ ref: JournalRef) async throws -> [String] {
        var artifacts = Artifact.fixed
        artifacts += try await checkpointSizes(of: ref).map { Artifact.checkpoint(size: $0) }
        var sealed: [String] = []
        for a in artifacts {
            let p = path(a, of: ref)
            guard access(p, F_OK) == 0 else { continue }
            try ops.chmod(p, 0o444)
            sealed.append(p)
        }
        return sealed
    }

    /// The file's name in the workspace folder (`exec_status_<g>.checkpoints/<size>.txt` for
    /// the history, `migrated/…` for backups).
    public func name(of artifact: Artifact, _ ref: JournalRef) -> String {
        artifact.standardName(g: ref.g)
    }
}
