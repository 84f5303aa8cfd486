import LogbookCore

/// A conformance check that did not hold: which check, and what was seen instead.
///
/// The library does not depend on a test framework: a backend's test target calls a check from
/// its own test and lets the thrown failure fail it (Swift Testing and XCTest both report a
/// thrown error with its description).
public struct ConformanceFailure: Error, CustomStringConvertible, Sendable {
    /// The check's name (``JournalStoreConformance/Check`` raw value, or another protocol's).
    public var check: String
    public var message: String

    public init(check: String, _ message: String) {
        self.check = check
        self.message = message
    }

    public init(check: String, message: String) {
        self.check = check
        self.message = message
    }

    public var description: String { "conformance check \(check) failed: \(message)" }
}

/// Throws a ``ConformanceFailure`` naming `check` unless `condition` holds.
func require(_ condition: @autoclosure () async throws -> Bool, _ check: String, _ message: @autoclosure () -> String) async throws {
    guard try await condition() else { throw ConformanceFailure(check: check, message()) }
}

/// Runs `body`, which must throw a `LogbookError` with `code`; a failure names `check`.
func requireError<T>(_ code: LogbookError.Code, _ check: String, _ what: String, _ body: () async throws -> T) async throws {
    do {
        _ = try await body()
    } catch let e as LogbookError {
        try await require(e.code == code, check, "\(what): expected a \(code) error, got \(e.code): \(e.message)")
        return
    } catch {
        throw ConformanceFailure(check: check, "\(what): expected a \(code) LogbookError, got \(error)")
    }
    throw ConformanceFailure(check: check, "\(what): expected a \(code) error, but it succeeded")
}


/// Runs `body`, which must throw a `LogbookError` (any code); a failure names `check`.
func requireLogbookError<T>(_ check: String, _ what: String, _ body: () async throws -> T) async throws {
    do {
        _ = try await body()
    } catch is LogbookError {
        return
    } catch {
        throw ConformanceFailure(check: check, "\(what): expected a LogbookError, got \(error)")
    }
    throw ConformanceFailure(check: check, "\(what): expected an error, but it succeeded")
}
