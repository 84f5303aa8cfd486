#if canImport(Glibc)
import Glibc
#endif
import LogbookCore

/// Identifies one version of a file that is only ever replaced by rename (a new inode each time):
/// an unchanged inode, size, mtime and ctime mean the same content, so a cache keyed by it needs
/// one `stat`, not a read and a parse.
struct FileVersion: Equatable, Sendable {
    var inode: UInt64, size: Int64, mtimeSec: Int, mtimeNsec: Int, ctimeNsec: Int

    /// The version of `path` now; nil if there is no such file; other `stat` failures throw.
    static func of(_ path: String) throws -> FileVersion? {
        var st = stat()
        guard stat(path, &st) == 0 else {
            if errno == ENOENT { return nil }
            throw osError("stat", path)
        }
        return FileVersion(inode: UInt64(st.st_ino), size: Int64(st.st_size), mtimeSec: Int(st.st_mtim.tv_sec),
                           mtimeNsec: Int(st.st_mtim.tv_nsec), ctimeNsec: Int(st.st_ctim.tv_nsec))
    }
}
