import Crypto

/// RFC 6962 Merkle hash trees (RFC 9162 §2.1): tree heads, inclusion and consistency proofs.
///
/// Leaves are arbitrary byte strings; Logbook uses each event's 32-byte `hash` as leaf data.
///
/// - leaf hash: SHA-256(0x00 ‖ leaf data)
/// - node hash: SHA-256(0x01 ‖ left ‖ right)
/// - MTH(D[n]) splits at k, the largest power of two smaller than n; MTH of no leaves is SHA-256("").
///
/// Every proof node is the root of a contiguous range of leaves, and the ranges of one proof are
/// disjoint, so proofs are built by streaming the leaves once with ``MerkleProofBuilder`` in
/// O(log n) memory; the array functions here are conveniences over it.
///
/// ```swift
/// var tree = MerkleAccumulator()
/// for e in events { tree.append(leafData: e.hash.bytes) }
/// let path = try Merkle.inclusionProof(index: 3, leafHashes: hashes)
/// try Merkle.verifyInclusion(index: 3, size: tree.size, leafHash: hashes[3], proof: path, root: tree.root)
/// ```
public enum Merkle {
    /// SHA-256(0x00 ‖ data).
    public static func leafHash<C: Collection>(_ data: C) -> Digest256 where C.Element == UInt8 {
        var h = SHA256()
        h.update(data: [0x00])
        h.update(data: Array(data))
        return Digest256(bytes: Array(h.finalize()))
    }

    /// SHA-256(0x01 ‖ left ‖ right).
    public static func nodeHash(_ left: Digest256, _ right: Digest256) -> Digest256 {
        var h = SHA256()
        h.update(data: [0x01])
        h.update(data: left.bytes)
        h.update(data: right.bytes)
        return Digest256(bytes: Array(h.finalize()))
    }

    /// MTH({}) = SHA-256 of the empty string.
    public static let emptyRoot = Digest256.of([UInt8]())

    /// The largest power of two smaller than `n` (n ≥ 2).
    static func split(_ n: Int) -> Int {
        precondition(n >= 2)
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }

    /// MTH over leaf hashes (already prefixed with 0x00).
    public static func root(leafHashes: [Digest256]) -> Digest256 {
        var acc = MerkleAccumulator()
        for h in leafHashes { acc.append(leafHash: h) }
        return acc.root
    }

    // MARK: Proof shapes (which leaf ranges the proof nodes cover)

    /// The leaf ranges whose roots form PATH(index, D[size]) (RFC 6962 §2.1.1), from the leaf up.
    public static func inclusionRanges(index: Int, size: Int) throws(LogbookError) -> [Range<Int>] {
        guard size > 0, index >= 0, index < size else {
            throw LogbookError(.badInput, "no inclusion proof for leaf \(index) in a tree of size \(size)")
        }
        var out: [Range<Int>] = []
        var lo = 0, hi = size
        // Walk down from the root, collecting siblings, then reverse (the path goes leaf → root).
        while hi - lo > 1 {
            let k = split(hi - lo)
            if index < lo + k {
                out.append((lo + k)..<hi)
                hi = lo + k
            } else {
                out.append(lo..<(lo + k))
                lo += k
            }
        }
        return out.reversed()
    }

    /// The leaf ranges whose roots form PROOF(old, D[new]) (RFC 6962 §2.1.2), in proof order.
    /// Empty when `old` is 0 or equal to `new`.
    public static func consistencyRanges(oldSize m: Int, newSize n: Int) throws(LogbookError) -> [Range<Int>] {
        guard m >= 0, m <= n else {
            throw LogbookError(.badInput, "no consistency proof from size \(m) to the smaller size \(n)")
        }
        guard m > 0, m < n else { return [] }
        // SUBPROOF(m, D[lo:hi], b), unrolled: each step records the sibling range, innermost last;
        // the RFC's output order is innermost first.
        var out: [Range<Int>] = []
        var lo = 0, hi = n, b = true
        var mm = m
        while true {
            let count = hi - lo
            if mm == count {
                if !b { out.append(lo..<hi) }
                break
            }
            let k = split(count)
            if mm <= k {
                out.append((lo + k)..<hi)
                hi = lo + k
            } else {
                out.append(lo..<(lo + k))
                lo += k
                mm -= k
                b = false
            }
        }
        return out.reversed()
    }

    // MARK: Proofs over an array of leaf hashes

    /// PATH(index, D[n]) over `leafHashes`.
    public static func inclusionProof(index: Int, leafHashes: [Digest256]) throws(LogbookError) -> [Digest256] {
        var b = MerkleProofBuilder(ranges: try inclusionRanges(index: index, size: leafHashes.count))
        for h in leafHashes { b.append(leafHash: h) }
        return try b.finish()
    }

    /// PROOF(oldSize, D[n]) over `leafHashes`.
    public static func consistencyProof(oldSize: Int, leafHashes: [Digest256]) throws(LogbookError) -> [Digest256] {
        var b = MerkleProofBuilder(ranges: try consistencyRanges(oldSize: oldSize, newSize: leafHashes.count))
        for h in leafHashes { b.append(leafHash: h) }
        return try b.finish()
    }

    // MARK: Verification (RFC 9162 §2.1.3.2 and §2.1.4.2)

    /// The root that `proof` leads to from `leafHash` at `index` in a tree of `size` leaves.
    public static func rootFromInclusionProof(index: Int, size: Int, leafHash: Digest256,
                                              proof: [Digest256]) throws(LogbookError) -> Digest256 {
        guard index >= 0, index < size else {
            throw LogbookError(.corrupt, "inclusion proof: leaf index \(index) is outside a tree of size \(size)")
        }
        var fn = index, sn = size - 1
        var r = leafHash
        for p in proof {
            guard sn != 0 else { throw LogbookError(.corrupt, "inclusion proof: \(proof.count) nodes are too many for leaf \(index) of \(size)") }
            if fn & 1 == 1 || fn == sn {
                r = nodeHash(p, r)
                if fn & 1 == 0 {
                    repeat { fn >>= 1; sn >>= 1 } while fn & 1 == 0 && fn != 0
                }
            } else {
                r = nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else { throw LogbookError(.corrupt, "inclusion proof: \(proof.count) nodes are too few for leaf \(index) of \(size)") }
        return r
    }

    /// Checks that the leaf with `leafHash` is at `index` of the tree of `size` leaves with `root`.
    public static func verifyInclusion(index: Int, size: Int, leafHash: Digest256, proof: [Digest256],
                                       root: Digest256) throws(LogbookError) {
        let got = try rootFromInclusionProof(index: index, size: size, leafHash: leafHash, proof: proof)
        guard got == root else {
            throw LogbookError(.corrupt, "inclusion proof: the audit path leads to root \(got.hex), not \(root.hex)")
        }
    }

    /// Checks that the tree of `oldSize` leaves with `oldRoot` is a prefix of the tree of
    /// `newSize` leaves with `newRoot`.
    public static func verifyConsistency(oldSize m: Int, newSize n: Int, oldRoot: Digest256, newRoot: Digest256,
                                         proof: [Digest256]) throws(LogbookError) {
        func bad(_ why: String) -> LogbookError {
            LogbookError(.corrupt, "consistency proof from size \(m) to \(n): \(why)")
        }
        guard m >= 0, m <= n else { throw bad("the old size is larger than the new one") }
        if m == n {
            guard proof.isEmpty else { throw bad("trees of the same size need an empty proof") }
            guard oldRoot == newRoot else { throw bad("same size, different roots (\(oldRoot.hex) and \(newRoot.hex)): a fork") }
            return
        }
        if m == 0 {
            guard proof.isEmpty else { throw bad("the empty tree needs an empty proof") }
            return
        }
        guard !proof.isEmpty else { throw bad("the proof is empty") }
        var c = proof
        if m & (m - 1) == 0 { c.insert(oldRoot, at: 0) }
        var fn = m - 1, sn = n - 1
        while fn & 1 == 1 { fn >>= 1; sn >>= 1 }
        var fr = c[0], sr = c[0]
        for p in c.dropFirst() {
            guard sn != 0 else { throw bad("too many nodes") }
            if fn & 1 == 1 || fn == sn {
                fr = nodeHash(p, fr)
                sr = nodeHash(p, sr)
                if fn & 1 == 0 {
                    repeat { fn >>= 1; sn >>= 1 } while fn & 1 == 0 && fn != 0
                }
            } else {
                sr = nodeHash(sr, p)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else { throw bad("too few nodes") }
        guard fr == oldRoot else { throw bad("it leads to old root \(fr.hex), not \(oldRoot.hex)") }
        guard sr == newRoot else { throw bad("it leads to new root \(sr.hex), not \(newRoot.hex)") }
    }
}

/// The root of a growing sequence of leaves in O(log n) memory: a stack of the roots of the
/// perfect subtrees that the binary digits of the size describe (a "compact range").
public struct MerkleAccumulator: Sendable, Equatable {
    /// Roots of perfect subtrees, largest (leftmost) first; sizes are the set bits of `size`.
    var stack: [Digest256] = []
    public private(set) var size = 0

    public init() {}

    /// Resumes from a saved compact range (see ``compactRange``): one root per set bit of `size`.
    public init(size: Int, compactRange: [Digest256]) throws(LogbookError) {
        guard size >= 0, size.nonzeroBitCount == compactRange.count else {
            throw LogbookError(.corrupt, "a compact range of \(compactRange.count) roots cannot describe \(size) leaves")
        }
        self.size = size
        self.stack = compactRange
    }

    /// The roots of the perfect subtrees covering the leaves so far, largest first: with `size`,
    /// all that is needed to go on appending (saved in segment manifests at each rotation).
    public var compactRange: [Digest256] { stack }

    /// Adds a leaf by its data (hashed as SHA-256(0x00 ‖ data)).
    public mutating func append<C: Collection>(leafData: C) where C.Element == UInt8 {
        append(leafHash: Merkle.leafHash(leafData))
    }

    /// Adds a leaf by its leaf hash.
    public mutating func append(leafHash: Digest256) {
        stack.append(leafHash)
        var n = size
        while n & 1 == 1 {
            let right = stack.removeLast()
            let left = stack.removeLast()
            stack.append(Merkle.nodeHash(left, right))
            n >>= 1
        }
        size += 1
    }

    /// MTH of the leaves so far (SHA-256("") when there are none).
    public var root: Digest256 {
        guard var r = stack.last else { return Merkle.emptyRoot }
        for s in stack.dropLast().reversed() { r = Merkle.nodeHash(s, r) }
        return r
    }
}

/// Builds a proof while the leaves stream past once: each proof node is the root of one of a
/// few disjoint leaf ranges, computed with its own ``MerkleAccumulator`` (O(log n) memory).
public struct MerkleProofBuilder: Sendable {
    let ranges: [Range<Int>]
    /// Indices into `ranges`, by range start.
    let order: [Int]
    var results: [Digest256?]
    var next = 0
    var current: MerkleAccumulator?
    var position = 0

    public init(ranges: [Range<Int>]) {
        self.ranges = ranges
        self.order = ranges.indices.sorted { ranges[$0].lowerBound < ranges[$1].lowerBound }
        self.results = Array(repeating: nil, count: ranges.count)
    }

    /// The leaves the proof needs: up to the end of its last range.
    public var leavesNeeded: Int { ranges.map(\.upperBound).max() ?? 0 }

    /// Feeds the next leaf hash (leaf index = number fed so far).
    public mutating func append(leafHash: Digest256) {
        defer { position += 1 }
        guard next < order.count else { return }
        let r = ranges[order[next]]
        guard r.contains(position) else { return }
        var acc = current ?? MerkleAccumulator()
        acc.append(leafHash: leafHash)
        if position == r.upperBound - 1 {
            results[order[next]] = acc.root
            current = nil
            next += 1
        } else {
            current = acc
        }
    }

    /// The proof nodes, in proof order; fails if too few leaves were fed.
    public func finish() throws(LogbookError) -> [Digest256] {
        var out: [Digest256] = []
        for r in results {
            guard let r else {
                throw LogbookError(.badInput, "the proof needs \(leavesNeeded) leaves, only \(position) were given")
            }
            out.append(r)
        }
        return out
    }
}
