import LogbookCore
import Synchronization

/// The in-memory ``ArtifactStore``: each plan's artifacts by g behind one mutex, named as the
/// file backend names them (``Artifact/standardName(g:)``). ``seal(_:)`` makes the stored ones
/// read-only: `store` refuses them afterwards (`.locked`), as the file backend refuses a file
/// of mode 0444.
public final class MemoryArtifactStore: ArtifactStore {
    struct Plan {
        var artifacts: [Artifact: [UInt8]] = [:]
        var sealed: Set<Artifact> = []
    }

    let plans = Mutex<[Int: Plan]>([:])
    let locks = Mutex<[Int: AsyncMutex]>([:])

    public init() {}

    public func load(_ artifact: Artifact, of ref: JournalRef) async throws -> [UInt8]? {
        plans.withLock { $0[ref.g]?.artifacts[artifact] }
    }

    public func store(_ artifact: Artifact, of ref: JournalRef, _ bytes: [UInt8]) async throws {
        try plans.withLock { p in
            var plan = p[ref.g] ?? Plan()
            if plan.sealed.contains(artifact) {
                let name = artifact.standardName(g: ref.g)
                throw LogbookError(.locked, "\(name) is read-only (plan \(ref.planID) is archived); it is not replaced (nothing written)", plan: ref.planID, path: name)
            }
            plan.artifacts[artifact] = bytes
            p[ref.g] = plan
        }
    }

    public func checkpointSizes(of ref: JournalRef) async throws -> [Int] {
        plans.withLock { p in
            guard let plan = p[ref.g] else { return [] }
            return plan.artifacts.keys.compactMap { if case .checkpoint(let n) = $0 { n } else { nil } }.sorted()
        }
    }

    public func exclusive<T: Sendable>(checkpointsOf ref: JournalRef, _ body: @Sendable () async throws -> T) async throws -> T {
        let m = locks.withLock { l in
            if let m = l[ref.g] { return m }
            let m = AsyncMutex(name: "the checkpoint lock of \(ref.statusID) (memory)")
            l[ref.g] = m
            return m
        }
        return try await m.withLock(body)
    }

    public func seal(_ ref: JournalRef) async throws -> [String] {
        plans.withLock { p in
            guard var plan = p[ref.g] else { return [] }
            let sizes = plan.artifacts.keys.compactMap { if case .checkpoint(let n) = $0 { n } else { nil } }.sorted()
            let order = Artifact.fixed + sizes.map { Artifact.checkpoint(size: $0) }
            let stored = order.filter { plan.artifacts[$0] != nil }
            plan.sealed.formUnion(stored)
            p[ref.g] = plan
            return stored.map { $0.standardName(g: ref.g) }
        }
    }

    public func name(of artifact: Artifact, _ ref: JournalRef) -> String {
        artifact.standardName(g: ref.g)
    }
}
