/// Checks a journal against a signed checkpoint while its lines stream past (O(log n) memory):
/// the journal must have at least `checkpoint.size` events, and the RFC 6962 root over the first
/// `size` event hashes must equal the checkpoint's root.
///
/// - fewer events: `truncated` (a rollback: acknowledged events were cut off);
/// - another root: `forked` (the history up to `size` was rewritten, even if the rewritten
///   chain and its signatures are valid in themselves).
///
/// Older checkpoints of the same journal may be given as `hints`: the failure then names the
/// range of seqs where the rewrite lies (after the last hint that still matches).
///
/// ```swift
/// var check = CheckpointCheck(checkpoint: cp)
/// try await store.forEachLine(ref) { check.feed($0) }
/// if let failure = check.finish() { print(failure) }
/// ```
public struct CheckpointCheck: Sendable {
    public let checkpoint: Checkpoint
    let hints: [Checkpoint]
    var tree = MerkleAccumulator()
    var rootAtSize: Digest256?
    var lastGoodHint: Int = 0
    var firstBadHint: Int?
    var failure: VerifyReport.Failure?

    public init(checkpoint: Checkpoint, hints: [Checkpoint] = []) {
        self.checkpoint = checkpoint
        self.hints = hints.filter { $0.size > 0 && $0.size < checkpoint.size }.sorted { $0.size < $1.size }
        if checkpoint.size == 0 { rootAtSize = Merkle.emptyRoot }
    }

    /// A check that has already failed (for example: the checkpoint file is damaged or forged).
    public init(checkpoint: Checkpoint, failure: VerifyReport.Failure) {
        self.init(checkpoint: checkpoint)
        self.failure = failure
    }

    /// The number of events seen so far (up to the checkpoint's size).
    public var size: Int { tree.size }

    /// Feeds the next journal line; only its `hash` field is read.
    public mutating func feed(_ line: JournalLine) {
        guard failure == nil, rootAtSize == nil else { return }
        guard let h = Self.eventHash(of: line) else {
            failure = .init(seq: tree.size, kind: .unparseable, message: "the line at seq \(tree.size) has no readable event hash")
            return
        }
        feed(eventHash: h)
    }

    /// The `hash` member of a journal line (the Merkle leaf data), or nil if it has none.
    public static func eventHash(of line: JournalLine) -> Digest256? {
        (try? JSONParser.parse(line.bytes))?["hash"]?.stringValue.flatMap(Digest256.init)
    }

    /// Feeds the next event's hash.
    public mutating func feed(eventHash: Digest256) {
        guard failure == nil, rootAtSize == nil else { return }
        tree.append(leafData: eventHash.bytes)
        if let i = hints.firstIndex(where: { $0.size == tree.size }) {
            if tree.root == hints[i].root {
                if firstBadHint == nil { lastGoodHint = tree.size }
            } else if firstBadHint == nil {
                firstBadHint = tree.size
            }
        }
        if tree.size == checkpoint.size { rootAtSize = tree.root }
    }

    /// The failure, if the journal does not match the checkpoint.
    public func finish() -> VerifyReport.Failure? {
        if let failure { return failure }
        let cp = checkpoint
        guard let root = rootAtSize else {
            return .init(seq: tree.size, kind: .truncated,
                         message: "the journal has \(tree.size) events (seq 0–\(tree.size - 1)), but the checkpoint signed by \(signers) covers \(cp.size) (seq 0–\(cp.size - 1)): events were cut off (a rollback)")
        }
        guard root == cp.root else {
            let upper = firstBadHint ?? cp.size
            return .init(seq: lastGoodHint, kind: .forked,
                         message: "the root over the first \(cp.size) events is \(Base64.encode(root.bytes)), but the checkpoint signed by \(signers) says \(Base64.encode(cp.root.bytes)): the history was rewritten (a fork) somewhere in seq \(lastGoodHint)–\(upper - 1)")
        }
        return nil
    }

    var signers: String {
        checkpoint.signatures.isEmpty ? "nobody" : checkpoint.signatures.map(\.name).joined(separator: ", ")
    }
}
