import Foundation
import LogbookCore

/// The cockpit's files (HTML, CSS, JavaScript, no build step): resources of this target, found
/// beside the executable as SwiftPM installs them (`Logbook_LogbookServer.resources/Assets`), or
/// a folder given for cockpit development (`logbook serve --cockpit-dir DIR`, read per request
/// so an edit shows on reload).
///
/// Only files named like `plan.html` or `cockpit.js` (lowercase letters, digits and `-`, one
/// known extension) are served: no path, no traversal.
struct CockpitAssets: Sendable {
    struct Asset: Sendable {
        var bytes: [UInt8]
        var contentType: String
    }

    enum Source: Sendable {
        /// Loaded once at start.
        case loaded([String: Asset])
        /// Read on each request.
        case folder(String)
        /// The resources were not found (a binary copied without its resource folder).
        case missing(String)
    }

    let source: Source

    static let types = ["html": "text/html; charset=utf-8", "css": "text/css; charset=utf-8",
                        "js": "text/javascript; charset=utf-8", "svg": "image/svg+xml", "png": "image/png"]

    /// The built-in assets, or those of `folder` when given.
    init(folder: String?) {
        if let folder {
            source = .folder(folder)
            return
        }
        guard let dir = Self.resourceFolder() else {
            source = .missing("the cockpit's files were not found beside \(Bundle.main.bundlePath) (Logbook_LogbookServer.resources)")
            return
        }
        var loaded: [String: Asset] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            if let a = Self.read(dir, name) { loaded[name] = a }
        }
        source = .loaded(loaded)
    }

    /// `Logbook_LogbookServer.resources/Assets` beside the executable (also where `swift build`
    /// and `swift test` put it), found without `Bundle.module`, which stops the process when
    /// the folder is missing.
    static func resourceFolder() -> String? {
        var candidates = [Bundle.main.bundleURL]
        if let exe = Bundle.main.executableURL { candidates.append(exe.deletingLastPathComponent()) }
        for base in candidates {
            let dir = base.appendingPathComponent("Logbook_LogbookServer.resources").appendingPathComponent("Assets").path
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue { return dir }
        }
        return nil
    }

    static func isAssetName(_ name: String) -> Bool {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, types[String(parts[1])] != nil, (1...64).contains(parts[0].count) else { return false }
        return parts[0].utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
    }

    static func read(_ dir: String, _ name: String) -> Asset? {
        guard isAssetName(name), let data = FileManager.default.contents(atPath: dir + "/" + name) else { return nil }
        return Asset(bytes: Array(data), contentType: types[String(name.split(separator: ".")[1])]!)
    }

    /// The asset `name`.
    ///
    /// - Throws: `.notFound` naming it; `.unavailable` when the cockpit's files are missing.
    func asset(_ name: String) throws(LogbookError) -> Asset {
        let found: Asset?
        switch source {
        case .loaded(let all): found = Self.isAssetName(name) ? all[name] : nil
        case .folder(let dir): found = Self.read(dir, name)
        case .missing(let why): throw LogbookError(.unavailable, "\(why); the API under /v1 works without them", rule: "cockpit")
        }
        guard let found else {
            throw LogbookError(.notFound, "no cockpit file \"\(SafeText.escape(String(name.prefix(64))))\"", rule: "cockpit")
        }
        return found
    }
}
