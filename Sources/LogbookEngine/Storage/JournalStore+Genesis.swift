import LogbookCore

extension JournalStore {
    /// Throws unless the journal's first line is `genesis` (an install being completed must be
    /// the same install): `.conflict` naming both digests, nothing written.
    public func requireGenesis(_ ref: JournalRef, _ genesis: [UInt8], name: String) async throws {
        let first = try await read(ref, from: 0, limit: 1).first?.bytes
        guard first == genesis else {
            let found = first.map { "another genesis (\(Digest256.of($0)))" } ?? "no genesis line"
            throw LogbookError(.conflict, "the status journal of \(ref.planID) (\(ref.statusID)) already exists with \(found), not the genesis being installed (\(Digest256.of(genesis))); nothing written",
                               plan: ref.planID, path: name)
        }
    }
}
