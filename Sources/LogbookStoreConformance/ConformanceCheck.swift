import LogbookCore
import LogbookEngine
import Synchronization

/// One named conformance check, run on a fresh backend.
public struct ConformanceCheck: Sendable, CustomStringConvertible {
    public var name: String
    public var run: @Sendable (Storage) async throws -> Void

    public init(_ name: String, _ run: @escaping @Sendable (Storage) async throws -> Void) {
        self.name = name
        self.run = run
    }

    public var description: String { name }
}

/// Runs every check on its own fresh storage from `make`; throws the first failure.
public func runConformance(_ checks: [ConformanceCheck], _ make: () async throws -> Storage) async throws {
    for c in checks { try await c.run(make()) }
}

/// Throws a ``ConformanceFailure`` of `check` unless `condition` holds.
func expect(_ condition: Bool, _ check: String, _ message: @autoclosure () -> String) throws {
    if !condition { throw ConformanceFailure(check: check, message: message()) }
}

/// Runs `body`, which must throw a ``LogbookError`` of `code`; returns it.
@discardableResult
func expectError(_ code: LogbookError.Code, _ check: String, _ what: String, _ body: () async throws -> Void) async throws -> LogbookError {
    do {
        try await body()
    } catch let e as LogbookError {
        try expect(e.code == code, check, "\(what): expected a \(code) error, got \(e.code): \(e.message)")
        return e
    } catch {
        throw ConformanceFailure(check: check, message: "\(what): expected a \(code) LogbookError, got \(type(of: error)): \(error)")
    }
    throw ConformanceFailure(check: check, message: "\(what): expected a \(code) error, but it succeeded")
}

/// Counts how many tasks are inside a section at once.
final class Overlap: Sendable {
    private let state = Mutex((inside: 0, most: 0, entries: 0, started: 0))

    /// Called by each task just before it asks for the lock.
    func start() { state.withLock { $0.started += 1 } }
    /// Inside the section: waits (a bounded number of short sleeps) until `n` tasks have asked
    /// for the lock, so that the others are trying to enter while this one is inside.
    func awaitStarted(_ n: Int) async throws {
        for _ in 0..<2000 where state.withLock({ $0.started }) < n { try await Task.sleep(for: .milliseconds(1)) }
    }
    func enter() { state.withLock { $0.inside += 1; $0.entries += 1; $0.most = max($0.most, $0.inside) } }
    func leave() { state.withLock { $0.inside -= 1 } }
    var most: Int { state.withLock { $0.most } }
    var entries: Int { state.withLock { $0.entries } }
}

/// Lets other tasks run (several turns of the scheduler and a short sleep), so that a section
/// that does not exclude them would overlap.
func giveWay() async throws {
    for _ in 0..<20 { await Task.yield() }
    try await Task.sleep(for: .milliseconds(2))
    for _ in 0..<20 { await Task.yield() }
}

/// The canonical bytes of a document, for comparisons independent of how a backend formats it.
func canonical(_ v: JSONValue) -> [UInt8] { CanonicalJSON.bytes(v) }
