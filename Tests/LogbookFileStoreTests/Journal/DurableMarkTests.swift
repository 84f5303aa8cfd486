import Foundation
import LogbookCore
import LogbookFileStore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The durable mark (`.exec_status_<g>.durable`, docs/FORMAT.md §4): readers show lines up to
/// it only; a process that opens a journal whose mark is missing, behind, or another file's
/// syncs the journal once and rebuilds it. A second store object on the folder stands for
/// another process.
@Suite struct DurableMarkTests {
    typealias J = FileJournalContractTests

    /// Lines written to the file behind an open store's back (as by a writer between its write
    /// and its sync) stay invisible to it; a new process syncs them and shows them.
    @Test func linesPastTheMarkAreHiddenUntilSynced() async throws {
        let store = try await J.journal("dm-hidden", lines: 4)
        let head = try await store.head(J.ref)
        try J.appendRaw(store.journalPath(J.ref), J.line(4))
        #expect(try await store.read(J.ref, from: 0, limit: Int.max).count == 4)
        #expect(try await store.head(J.ref) == head)
        let other = FileJournalStore(directory: store.directory)
        #expect(try await other.read(J.ref, from: 0, limit: Int.max).count == 5)
        #expect(try await other.head(J.ref)?.seq == 4)
        // The first store's next append folds and covers the line too.
        let end = try await store.append(J.ref, from: 0) { lines in
            #expect(lines.count == 5)
            return [J.line(5)]
        }
        #expect(try await store.read(J.ref, from: 0, limit: Int.max).last?.end == end)
    }

    /// A deleted mark, or one copied with the workspace (it names the original journal file's
    /// inode), is rebuilt by the next process: every complete line shows, nothing is lost.
    @Test(arguments: ["deleted", "copied", "garbage"])
    func aMissingOrForeignMarkIsRebuilt(_ how: String) async throws {
        let store = try await J.journal("dm-\(how)", lines: 6)
        let markPath = store.durableMarkPath(J.ref)
        #expect(access(markPath, F_OK) == 0)
        var dir = store.directory
        switch how {
        case "deleted": unlink(markPath)
        case "copied":
            dir = TestSupport.tempDirectory("dm-copy")
            try FileManager.default.removeItem(atPath: dir)
            try FileManager.default.copyItem(atPath: store.directory, toPath: dir)
        default: try Data(repeating: 0xFF, count: 32).write(to: URL(fileURLWithPath: markPath))
        }
        let other = FileJournalStore(directory: dir)
        let lines = try await other.read(J.ref, from: 0, limit: Int.max)
        #expect(lines.count == 6 && lines.last.map { JournalHead.seq($0.bytes) } == 5)
        #expect(try await other.head(J.ref)?.seq == 5)
        let end = try await other.append(J.ref, from: lines.last!.end) { _ in [J.line(6)] }
        #expect(try await FileJournalStore(directory: dir).head(J.ref)?.end == end)
    }

    /// Writers in two store objects (two processes) appending at once: every acknowledged line is
    /// visible to a third, once, in seq order, and the mark ends where the last append did.
    @Test func concurrentWritersEveryAcknowledgedLineVisible() async throws {
        let store = try await J.journal("dm-many", lines: 1)
        let dir = store.directory
        let stores = [store, FileJournalStore(directory: dir)]
        let ends = try await withThrowingTaskGroup(of: Int64.self) { group in
            for k in 0..<8 {
                group.addTask {
                    var last: Int64 = 0
                    for _ in 0..<25 {
                        last = try await stores[k % 2].append(J.ref, from: 0) { lines in
                            [J.line(lines.count, "k\(k)")]
                        }
                    }
                    return last
                }
            }
            var out: [Int64] = []
            for try await e in group { out.append(e) }
            return out
        }
        let reader = FileJournalStore(directory: dir)
        let lines = try await reader.read(J.ref, from: 0, limit: Int.max)
        #expect(lines.count == 201)
        #expect(lines.enumerated().allSatisfy { JournalHead.seq($0.element.bytes) == $0.offset })
        #expect(try await reader.head(J.ref)?.end == ends.max())
    }
}
