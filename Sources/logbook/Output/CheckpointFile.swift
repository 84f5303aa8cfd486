import Foundation
import LogbookCore

/// A checkpoint named on the command line (`--checkpoint FILE`, `prove --checkpoint`,
/// `consistency OLD NEW`).
enum CheckpointFile {
    /// Reads and parses it; `.notFound` or the parse error, naming the file.
    static func read(_ path: String) throws -> Checkpoint {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LogbookError(.notFound, "no checkpoint file \(path)")
        }
        do { return try Checkpoint(parsing: Array(data)) } catch {
            throw LogbookError(error.code, "\(path): \(error.message)")
        }
    }
}
