import Dispatch
import Synchronization

/// Holds one journal sync of a backend under test, so a check can read while a line is written
/// but not yet durable, then lets the sync succeed or fail.
///
/// A backend that can simulate this wires its sync (files: the `fdatasync` of a `FileOps`
/// wrapper) to call ``syncWillRun()`` on the thread that syncs, which blocks while the gate is
/// armed. The check side is async and never blocks a cooperative thread.
public final class SyncGate: Sendable {
    struct State {
        var armed = false
        var reached = false
        var outcome: Bool?  // true: the sync succeeds
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    let state = Mutex(State())
    let released = DispatchSemaphore(value: 0)

    public init() {}

    /// The next sync blocks in ``syncWillRun()`` until ``release(succeed:)``.
    public func arm() {
        state.withLock { $0 = State(armed: true) }
    }

    /// Called by the backend on the thread that is about to sync. Returns true to let the sync run,
    /// false to make it fail (the backend then throws its sync error). Not armed: returns true at once.
    public func syncWillRun() -> Bool {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>]? in
            guard s.armed, !s.reached else { return nil }
            s.reached = true
            defer { s.waiters = [] }
            return s.waiters
        }
        guard let waiters else { return true }
        for w in waiters { w.resume() }
        released.wait()
        return state.withLock { s in
            s.armed = false
            return s.outcome ?? true
        }
    }

    /// Returns once a sync is held in ``syncWillRun()``.
    public func reached() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.reached { return true }
                s.waiters.append(c)
                return false
            }
            if now { c.resume() }
        }
    }

    /// Lets the held sync go on: succeed, or fail as a disk error would.
    public func release(succeed: Bool) {
        state.withLock { $0.outcome = succeed }
        released.signal()
    }
}
