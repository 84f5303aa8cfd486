import NIOPosix

/// Runs blocking system calls (flock, pread, pwrite, fdatasync) off Swift's cooperative threads,
/// on NIO's shared blocking pool: a task waiting for a journal lock or a sync suspends instead of
/// holding one of the few threads every task shares.
enum Blocking {
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(body)
    }
}
