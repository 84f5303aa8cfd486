#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// How long this store's appends waited for and held the journal's exclusive lock: the write
/// section (fold what others appended, build, write) and the raise section (after the sync,
/// raise the durable mark). With many writer processes the lock is what serialises them, so
/// these times bound the rate (docs/PERFORMANCE.md); `logbook-bench` prints them for row 2.
public struct ExclusiveLockTimes: Sendable, Equatable {
    /// Write sections completed.
    public var appends: Int
    public var waitedSeconds: Double
    public var heldSeconds: Double
    public var raiseWaitedSeconds: Double
    public var raiseHeldSeconds: Double
}

/// The running totals behind ``ExclusiveLockTimes`` (relaxed atomics: a statistic, not a fence).
final class LockClock: Sendable {
    private let appends = Atomic<Int>(0)
    private let waited = Atomic<UInt64>(0), held = Atomic<UInt64>(0)
    private let raiseWaited = Atomic<UInt64>(0), raiseHeld = Atomic<UInt64>(0)

    static func now() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }

    /// The sections of an append that are timed.
    enum Section { case write, raise }

    /// Runs `body` between `lock` and `unlock`, counting the wait and the hold as `section`
    /// (nil: not counted).
    func timed<T>(_ section: Section?, lock: () throws -> Void, unlock: () -> Void, _ body: () throws -> T) throws -> T {
        guard let section else {
            try lock()
            defer { unlock() }
            return try body()
        }
        let asked = Self.now()
        try lock()
        let got = Self.now()
        defer {
            // Before the unlock: waking the waiters can deschedule this thread, which is not
            // time the lock was held.
            let done = Self.now()
            unlock()
            if section == .raise {
                raiseWaited.add(got - asked, ordering: .relaxed)
                raiseHeld.add(done - got, ordering: .relaxed)
            } else {
                waited.add(got - asked, ordering: .relaxed)
                held.add(done - got, ordering: .relaxed)
                appends.add(1, ordering: .relaxed)
            }
        }
        return try body()
    }

    var times: ExclusiveLockTimes {
        func s(_ a: borrowing Atomic<UInt64>) -> Double { Double(a.load(ordering: .relaxed)) / 1e9 }
        return ExclusiveLockTimes(appends: appends.load(ordering: .relaxed), waitedSeconds: s(waited), heldSeconds: s(held),
                                  raiseWaitedSeconds: s(raiseWaited), raiseHeldSeconds: s(raiseHeld))
    }
}
