import LogbookCore
import Synchronization

/// A mutual-exclusion lock for async code: a task that waits is suspended, never blocks its
/// thread; first come, first served. Backends build their `exclusive` on it (files take their
/// `flock` only once a task holds it, so at most one thread per process waits on the file).
///
/// Not reentrant: ``withLock(_:)`` refuses (`.conflict`) a task that already holds it (and its
/// child tasks), instead of letting it wait for itself forever.
///
/// ```swift
/// let m = AsyncMutex(name: "state.txt")
/// try await m.withLock { try await write() }
/// ```
public final class AsyncMutex: Sendable {
    /// Names the lock in the error a nested call gets.
    public let name: String
    private struct State {
        var locked = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    /// The mutexes the current task (and the child tasks it started while holding them) holds.
    @TaskLocal static var held: Set<ObjectIdentifier> = []

    public init(name: String) { self.name = name }

    /// Whether the current task holds this mutex (inside ``withLock(_:)``).
    public var isHeldByCurrentTask: Bool { Self.held.contains(ObjectIdentifier(self)) }

    /// Runs `body` holding the mutex.
    ///
    /// - Throws: `.conflict` when the current task holds it already; `body`'s errors.
    public func withLock<T>(_ body: () async throws -> T) async throws -> T {
        if isHeldByCurrentTask {
            throw LogbookError(.conflict, "\(name) is already held by this task; the lock is not reentrant (nothing was written)")
        }
        await lock()
        defer { unlock() }
        return try await Self.$held.withValue(Self.held.union([ObjectIdentifier(self)])) { try await body() }
    }

    func lock() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if !s.locked {
                    s.locked = true
                    return true
                }
                s.waiters.append(c)
                return false
            }
            if now { c.resume() }
        }
    }

    func unlock() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.waiters.isEmpty {
                s.locked = false
                return nil
            }
            return s.waiters.removeFirst()
        }
        next?.resume()
    }
}
