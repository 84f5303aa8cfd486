import ArgumentParser
import Foundation
import LogbookCore

/// The one place where the CLI turns errors into a line on stderr and an exit code.
enum ErrorReport {
    static func exitCode(_ code: LogbookError.Code) -> Int32 {
        switch code {
        case .badInput, .invalidPlan: 2
        case .refused, .forbidden, .conflict, .locked, .notLocked, .alreadyExists: 3
        case .notFound: 4
        case .badSignature, .badKey: 5
        case .corrupt: 6
        case .io: 7
        default: 1
        }
    }

    static func exit(with error: any Error) -> Never {
        if let e = error as? LogbookError {
            FileHandle.standardError.write(Data("logbook: error: \(e.description)\n".utf8))
            Foundation.exit(exitCode(e.code))
        }
        if let e = error as? VerificationFailed {
            Foundation.exit(e.exitCode)
        }
        // A ValidationError reaching here was thrown by a command's run(), after parsing: bad input.
        if let e = error as? ValidationError {
            FileHandle.standardError.write(Data("logbook: error: \(e.message)\n".utf8))
            Foundation.exit(2)
        }
        if let e = error as? CocoaError, let path = e.userInfo[NSFilePathErrorKey] as? String {
            FileHandle.standardError.write(Data("logbook: error: \(path): \(e.localizedDescription)\n".utf8))
            Foundation.exit(7)
        }
        // Usage errors, --help and --version: argument-parser's own rendering.
        Logbook.exit(withError: error)
    }
}

/// Thrown after a failing `verify` has printed its report.
struct VerificationFailed: Error {
    var exitCode: Int32 = 6
}
