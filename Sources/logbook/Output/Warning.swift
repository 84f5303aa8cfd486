import Foundation
import LogbookCore
import LogbookEngine

/// A warning on stderr: `logbook: warning: …`, or with `--json` one line
/// `{"warning": {"message": …}}`, so a script reading stderr as JSON lines can skip it.
enum Warning {
    static func print(_ message: String, json: Bool = ErrorReport.wantsJSON()) {
        let line = json
            ? CanonicalJSON.string(["warning": ["message": .string(message)]])
            : "logbook: warning: \(SafeText.escape(message))"
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
