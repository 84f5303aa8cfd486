#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LogbookCore
import LogbookEngine

extension Workspace {
    /// Removes the temporary files of atomic writes whose writer died between writing the temp
    /// file and renaming it (`.tmp-<file>-<pid>-<random>`, in the workspace folder and its
    /// subfolders). A file whose process is still running is left alone.
    ///
    /// - Returns: the paths removed.
    @discardableResult
    public func removeStaleTemporaries() -> [String] {
        var removed: [String] = []
        var folders = [root]
        if let names = try? FileManager.default.contentsOfDirectory(atPath: root) {
            for n in names.sorted() where !n.hasPrefix(".") {
                var isDir: ObjCBool = false
                if FileManager.default.fileExists(atPath: root + "/" + n, isDirectory: &isDir), isDir.boolValue { folders.append(root + "/" + n) }
            }
        }
        for folder in folders {
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted() where name.hasPrefix(".tmp-") {
                let parts = name.split(separator: "-")
                guard parts.count >= 4, let pid = Int32(parts[parts.count - 2]), pid > 0 else { continue }
                // kill(pid, 0) fails with ESRCH only when no such process exists.
                guard kill(pid, 0) != 0, errno == ESRCH else { continue }
                let path = folder + "/" + name
                if unlink(path) == 0 { removed.append(path) }
            }
        }
        return removed
    }
}
