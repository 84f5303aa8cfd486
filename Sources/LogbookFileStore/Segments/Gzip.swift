#if canImport(Glibc)
import Glibc
#endif
import CLogbookShims
import LogbookCore

/// gzip through the system zlib (journal segments are `.jsonl.gz`, readable by `zcat`).
enum Gzip {
    /// Compresses `bytes` into one gzip member.
    static func compress(_ bytes: [UInt8], level: Int32 = 6) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: clogbook_gzip_bound(bytes.count))
        var len = out.count
        let rc = bytes.withUnsafeBufferPointer { inp in
            out.withUnsafeMutableBufferPointer { o in
                clogbook_gzip(inp.baseAddress, inp.count, o.baseAddress, &len, level)
            }
        }
        guard rc == 0 else { throw LogbookError(.io, "gzip compression failed (zlib error \(rc))") }
        out.removeSubrange(len...)
        return out
    }
}

/// A streaming gzip decoder over a file read with `pread`: constant memory, forward only.
final class GzipFileReader: @unchecked Sendable {
    let fd: Int32
    let path: String
    let ops: any FileOps
    private var state: UnsafeMutableRawPointer?
    private var fileOffset: Int64 = 0
    /// Compressed bytes read ahead (`inputCount` of them valid) and the decoded bytes of the
    /// last `read`: both allocated once per reader, so reading a journal does not churn the heap.
    private var input = [UInt8](repeating: 0, count: 64 * 1024)
    private var inputCount = 0
    private var inputAt = 0
    var scratch = [UInt8](repeating: 0, count: 64 * 1024)
    /// Uncompressed bytes produced so far (the position in the segment's text).
    private(set) var position: Int64 = 0
    private(set) var finished = false
    /// SHA-256 of every byte produced (from the segment's start), so a reader that goes through
    /// a whole segment checks it against its manifest at no extra pass.
    private var hasher = Digest256.Streaming()
    var digest: Digest256 { hasher.finish() }

    init(path: String, ops: any FileOps) throws {
        self.path = path
        self.ops = ops
        fd = try ops.openRegular(path, O_RDONLY, 0)
        guard let s = clogbook_gunzip_new() else {
            ops.close(fd)
            throw LogbookError(.io, "zlib could not start a decoder for \(Paths.fileName(of: path))")
        }
        state = s
    }

    deinit {
        clogbook_gunzip_free(state)
        ops.close(fd)
    }

    /// Decoded bytes given back by ``unread(_:)``, served before decoding more.
    private var returned: [UInt8] = []
    private var returnedAt = 0

    /// Gives back the last bytes a `read` produced (the reader's position moves back by as many);
    /// the next `read` returns them again.
    func unread(_ bytes: ArraySlice<UInt8>) {
        guard !bytes.isEmpty else { return }
        precondition(returnedAt == returned.count, "unread twice without a read")
        returned.removeAll(keepingCapacity: true)
        returned.append(contentsOf: bytes)
        returnedAt = 0
        position -= Int64(bytes.count)
    }

    /// Fills `into` with up to its capacity of decoded bytes; returns the count (0 at the end).
    func read(into out: UnsafeMutableRawBufferPointer) throws -> Int {
        if returnedAt < returned.count {
            let n = min(out.count, returned.count - returnedAt)
            returned.withUnsafeBytes { src in
                out.baseAddress!.copyMemory(from: src.baseAddress! + returnedAt, byteCount: n)
            }
            returnedAt += n
            position += Int64(n)
            return n
        }
        var produced = 0
        while produced < out.count, !finished {
            if inputAt == inputCount {
                let n = try input.withUnsafeMutableBytes { try ops.pread(fd, $0, fileOffset) }
                inputCount = n
                inputAt = 0
                fileOffset += Int64(n)
                if n == 0 {
                    throw LogbookError(.corrupt, "\(Paths.fileName(of: path)) ends before its gzip stream does (truncated segment)")
                }
            }
            var consumed = 0, made = 0
            let rc = input.withUnsafeBufferPointer { inp in
                clogbook_gunzip(state, inp.baseAddress! + inputAt, inputCount - inputAt, &consumed,
                                out.baseAddress!.assumingMemoryBound(to: UInt8.self) + produced, out.count - produced, &made)
            }
            inputAt += consumed
            hasher.update(UnsafeRawBufferPointer(start: out.baseAddress! + produced, count: made))
            produced += made
            position += Int64(made)
            if rc == 1 { finished = true } else if rc < 0 {
                throw LogbookError(.corrupt, "\(Paths.fileName(of: path)) is not a valid gzip stream (zlib error \(rc)) at byte \(fileOffset)")
            } else if consumed == 0, made == 0, inputAt < inputCount {
                throw LogbookError(.corrupt, "\(Paths.fileName(of: path)): the gzip decoder made no progress at byte \(fileOffset)")
            }
        }
        return produced
    }

    /// Skips decoded bytes up to `target` (forward only).
    func skip(to target: Int64) throws {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while position < target {
            let want = Int(min(Int64(buffer.count), target - position))
            let n = try buffer.withUnsafeMutableBytes { try read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<want])) }
            if n == 0 { throw LogbookError(.corrupt, "\(Paths.fileName(of: path)) holds fewer bytes than its manifest says (\(position) < \(target))") }
        }
    }
}
