import LogbookCore
import LogbookEngine

/// The executable definition of an ``ArtifactStore``; each check runs on a fresh storage.
public enum ArtifactStoreConformance {
    public static let checks: [ConformanceCheck] = [
        ConformanceCheck("artifacts round trip", roundTrip),
        ConformanceCheck("checkpoint sizes listing", checkpointSizes),
        ConformanceCheck("checkpoint exclusive excludes", exclusiveExcludes),
        ConformanceCheck("seal", seal),
    ]

    static let planA = JournalRef(planID: "EP-ART-A", g: 1)
    static let planB = JournalRef(planID: "EP-ART-B", g: 2)
    static let every: [Artifact] = [.latestCheckpoint, .checkpoint(size: 3), .reportJSON, .reportMarkdown, .migrationSource, .migrationRetryCounters]

    static func bytes(_ a: Artifact, _ version: Int) -> [UInt8] { Array("\(a) v\(version)\n".utf8) }

    /// Every artifact: nothing before it is stored, the bytes stored after, replaced by a
    /// second store; one plan's artifacts are not another's; names are distinct.
    public static func roundTrip(_ s: Storage) async throws {
        let check = "artifacts round trip"
        let a = s.artifacts
        for art in every {
            try expect(try await a.load(art, of: planA) == nil, check, "\(art) exists before it was stored")
            try await a.store(art, of: planA, bytes(art, 1))
            try expect(try await a.load(art, of: planA) == bytes(art, 1), check, "\(art) loaded other bytes than stored")
            try await a.store(art, of: planA, bytes(art, 2))
            try expect(try await a.load(art, of: planA) == bytes(art, 2), check, "\(art) was not replaced by the second store")
            try expect(try await a.load(art, of: planB) == nil, check, "\(art) of \(planA) is visible as \(planB)'s")
        }
        let names = every.map { a.name(of: $0, planA) }
        try expect(Set(names).count == every.count && !names.contains(""), check, "artifact names are not distinct: \(names)")
        try expect(a.name(of: .reportJSON, planA) != a.name(of: .reportJSON, planB), check, "two plans' reports have the same name")
    }

    /// The history's sizes, ascending; the latest checkpoint is not one of them.
    public static func checkpointSizes(_ s: Storage) async throws {
        let check = "checkpoint sizes listing"
        let a = s.artifacts
        try expect(try await a.checkpointSizes(of: planA).isEmpty, check, "a fresh plan lists checkpoints")
        for n in [10, 2, 7] { try await a.store(.checkpoint(size: n), of: planA, bytes(.checkpoint(size: n), 1)) }
        try await a.store(.latestCheckpoint, of: planA, bytes(.latestCheckpoint, 1))
        try await a.store(.checkpoint(size: 5), of: planB, bytes(.checkpoint(size: 5), 1))
        let sizes = try await a.checkpointSizes(of: planA)
        try expect(sizes == [2, 7, 10], check, "checkpointSizes gave \(sizes), expected [2, 7, 10]")
        try expect(try await a.checkpointSizes(of: planB) == [5], check, "another plan's history leaked into the listing")
        try expect(try await a.load(.checkpoint(size: 7), of: planA) == bytes(.checkpoint(size: 7), 1), check, "the history checkpoint of size 7 reads back wrong")
    }

    /// Two tasks in `exclusive(checkpointsOf:)` never overlap; a nested call is `.conflict`;
    /// another plan's lock is independent (held at once without waiting).
    public static func exclusiveExcludes(_ s: Storage) async throws {
        let check = "checkpoint exclusive excludes"
        let a = s.artifacts
        let overlap = Overlap()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for k in 0..<2 {
                group.addTask {
                    overlap.start()
                    try await a.exclusive(checkpointsOf: planA) {
                        overlap.enter()
                        try await overlap.awaitStarted(2)
                        try await giveWay()
                        try await a.store(.checkpoint(size: k + 1), of: planA, bytes(.checkpoint(size: k + 1), 1))
                        overlap.leave()
                    }
                }
            }
            try await group.waitForAll()
        }
        try expect(overlap.entries == 2 && overlap.most == 1, check, "\(overlap.most) tasks were inside at once (of \(overlap.entries))")
        try await expectError(.conflict, check, "exclusive inside exclusive of the same plan") {
            try await a.exclusive(checkpointsOf: planA) { try await a.exclusive(checkpointsOf: planA) { () } }
        }
        let inner = try await a.exclusive(checkpointsOf: planA) { try await a.exclusive(checkpointsOf: planB) { 7 } }
        try expect(inner == 7, check, "another plan's checkpoint lock inside this one's returned \(inner)")
    }

    /// `seal` names every stored artifact of the plan (and nothing else), leaves their bytes,
    /// and afterwards a sealed artifact is never replaced (`.locked`); other plans are untouched.
    public static func seal(_ s: Storage) async throws {
        let check = "seal"
        let a = s.artifacts
        let stored: [Artifact] = [.latestCheckpoint, .checkpoint(size: 4), .checkpoint(size: 9), .reportJSON, .reportMarkdown]
        for art in stored { try await a.store(art, of: planA, bytes(art, 1)) }
        try await a.store(.reportJSON, of: planB, bytes(.reportJSON, 1))
        let sealed = try await a.seal(planA)
        try expect(sealed.count == stored.count, check, "seal named \(sealed.count) artifacts, \(stored.count) are stored: \(sealed)")
        for art in stored {
            let name = a.name(of: art, planA)
            try expect(sealed.contains { $0.hasSuffix(name) }, check, "seal did not name \(name): \(sealed)")
            try expect(try await a.load(art, of: planA) == bytes(art, 1), check, "\(name) changed when sealed")
        }
        try await expectError(.locked, check, "a store over a sealed artifact") {
            try await a.store(.reportJSON, of: planA, bytes(.reportJSON, 2))
        }
        try expect(try await a.load(.reportJSON, of: planA) == bytes(.reportJSON, 1), check, "a refused store replaced a sealed report")
        try await a.store(.reportJSON, of: planB, bytes(.reportJSON, 2))
        try expect(try await a.load(.reportJSON, of: planB) == bytes(.reportJSON, 2), check, "sealing one plan sealed another")
        try expect(try await a.seal(planA).count == stored.count, check, "sealing again named other artifacts")
    }
}
