import Foundation
import Testing
import LogbookCore

/// RFC 6962 Merkle trees against published vectors.
///
/// Sources (transparency-dev/merkle, the successor of the Merkle code in Google's
/// certificate-transparency-go and trillian):
/// - leaves, node hashes and roots: `testonly/constants.go` (commit 582a6ad190b6848f1d26f8bf08ddef29955d9db1),
///   `LeafInputs()`, `NodeHashes()`, `RootHashes()`;
/// - inclusion and consistency proofs with their hashes: `proof/verify_test.go`
///   (commit 02194e9afb6c1d95b5381350007963aa70fff472), `inclusionProofs`, `consistencyProofs`, and
///   its corruption probes (`corruptInclusionProof`, `corruptConsistencyProof`);
/// - proof shapes as node ids for trees up to 8 leaves: `proof/proof_test.go`
///   (commit 02a3e2029520f515596d5238c54fb0ac9e19bff4), `TestInclusion`, `TestConsistency`.
@Suite("Merkle tree (RFC 6962)")
struct MerkleTreeTests {
    static func d(_ hex: String) -> Digest256 { Digest256(bytes: Hex.decode(Array(hex.utf8))!) }
    static func raw(_ hex: String) -> [UInt8] { Hex.decode(Array(hex.utf8))! }

    /// testonly.LeafInputs()
    static let leafInputs: [[UInt8]] = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                        "606162636465666768696a6b6c6d6e6f"].map(raw)
    static var leafHashes: [Digest256] { leafInputs.map { Merkle.leafHash($0) } }

    /// testonly.RootHashes(), by tree size 0…8.
    static let roots: [Digest256] = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ].map(d)

    /// testonly.NodeHashes(): [level][index] of the complete subtrees of the 8-leaf tree.
    static let nh: [[Digest256]] = [
        ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
         "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
         "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
         "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
         "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
         "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
         "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
         "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"].map(d),
        ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
         "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
         "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
         "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"].map(d),
        ["d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
         "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"].map(d),
        ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"].map(d),
    ]

    struct ProofVector: Sendable, CustomTestStringConvertible {
        var a: Int  // leaf index, or old size
        var n: Int  // tree size, or new size
        var proof: [Digest256]
        var testDescription: String { "\(a)/\(n)" }
    }

    /// verify_test.go `inclusionProofs` (its leaf numbers are 1-based; here 0-based indices).
    static let inclusionVectors: [ProofVector] = [
        .init(a: 0, n: 1, proof: []),
        .init(a: 0, n: 8, proof: ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                                  "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                                  "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"].map(d)),
        .init(a: 5, n: 8, proof: ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                                  "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                                  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"].map(d)),
        .init(a: 2, n: 3, proof: ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"].map(d)),
        .init(a: 1, n: 5, proof: ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                                  "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                                  "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"].map(d)),
    ]

    /// verify_test.go `consistencyProofs`.
    static let consistencyVectors: [ProofVector] = [
        .init(a: 1, n: 1, proof: []),
        .init(a: 1, n: 8, proof: ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                                  "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                                  "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"].map(d)),
        .init(a: 6, n: 8, proof: ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                                  "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                                  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"].map(d)),
        .init(a: 2, n: 5, proof: ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                                  "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"].map(d)),
        .init(a: 6, n: 7, proof: ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                                  "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                                  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"].map(d)),
    ]

    /// proof_test.go `TestInclusion`, node ids turned into hashes with NodeHashes(); `l` is the
    /// rehashed parent of i = (1,2) and j = (0,6) in the 7-leaf tree.
    static var inclusionShapes: [ProofVector] {
        let l = Merkle.nodeHash(nh[1][2], nh[0][6])
        return [
            .init(a: 0, n: 1, proof: []),
            .init(a: 0, n: 2, proof: [nh[0][1]]), .init(a: 1, n: 2, proof: [nh[0][0]]),
            .init(a: 1, n: 3, proof: [nh[0][0], nh[0][2]]),
            .init(a: 0, n: 7, proof: [nh[0][1], nh[1][1], l]), .init(a: 1, n: 7, proof: [nh[0][0], nh[1][1], l]),
            .init(a: 2, n: 7, proof: [nh[0][3], nh[1][0], l]), .init(a: 3, n: 7, proof: [nh[0][2], nh[1][0], l]),
            .init(a: 4, n: 7, proof: [nh[0][5], nh[0][6], nh[2][0]]), .init(a: 5, n: 7, proof: [nh[0][4], nh[0][6], nh[2][0]]),
            .init(a: 6, n: 7, proof: [nh[1][2], nh[2][0]]),
            .init(a: 2, n: 4, proof: [nh[0][3], nh[1][0]]), .init(a: 3, n: 5, proof: [nh[0][2], nh[1][0], nh[0][4]]),
            .init(a: 3, n: 6, proof: [nh[0][2], nh[1][0], nh[1][2]]), .init(a: 4, n: 6, proof: [nh[0][5], nh[2][0]]),
        ]
    }

    /// proof_test.go `TestConsistency`, likewise.
    static var consistencyShapes: [ProofVector] {
        let l = Merkle.nodeHash(nh[1][2], nh[0][6])
        return [
            .init(a: 1, n: 2, proof: [nh[0][1]]), .init(a: 1, n: 4, proof: [nh[0][1], nh[1][1]]),
            .init(a: 1, n: 6, proof: [nh[0][1], nh[1][1], nh[1][2]]), .init(a: 2, n: 3, proof: [nh[0][2]]),
            .init(a: 2, n: 8, proof: [nh[1][1], nh[2][1]]), .init(a: 3, n: 7, proof: [nh[0][2], nh[0][3], nh[1][0], l]),
            .init(a: 4, n: 7, proof: [l]), .init(a: 5, n: 7, proof: [nh[0][4], nh[0][5], nh[0][6], nh[2][0]]),
            .init(a: 6, n: 7, proof: [nh[1][2], nh[0][6], nh[2][0]]), .init(a: 7, n: 8, proof: [nh[0][6], nh[0][7], nh[1][2], nh[2][0]]),
            .init(a: 2, n: 4, proof: [nh[1][1]]), .init(a: 3, n: 5, proof: [nh[0][2], nh[0][3], nh[1][0], nh[0][4]]),
            .init(a: 3, n: 6, proof: [nh[0][2], nh[0][3], nh[1][0], nh[1][2]]), .init(a: 4, n: 6, proof: [nh[1][2]]),
            .init(a: 1, n: 7, proof: [nh[0][1], nh[1][1], l]),
        ] + [1, 2, 3, 4, 5, 7, 8].map { .init(a: $0, n: $0, proof: []) }
    }

    // MARK: Roots

    @Test("roots of the 8 reference leaves for sizes 0…8, streamed")
    func roots() {
        var acc = MerkleAccumulator()
        #expect(acc.root == Self.roots[0])
        for (i, leaf) in Self.leafInputs.enumerated() {
            acc.append(leafData: leaf)
            #expect(acc.size == i + 1)
            #expect(acc.root == Self.roots[i + 1], "size \(i + 1)")
            #expect(Merkle.root(leafHashes: Array(Self.leafHashes.prefix(i + 1))) == Self.roots[i + 1])
        }
    }

    @Test("leaf hashes are the level-0 node hashes")
    func leafHashesMatch() {
        #expect(Self.leafHashes == Self.nh[0])
        #expect(Merkle.nodeHash(Self.nh[0][0], Self.nh[0][1]) == Self.nh[1][0])
    }

    // MARK: Inclusion

    @Test("published inclusion proofs are generated and verify", arguments: inclusionVectors)
    func inclusionVector(_ v: ProofVector) throws {
        let leaves = Array(Self.leafHashes.prefix(v.n))
        #expect(try Merkle.inclusionProof(index: v.a, leafHashes: leaves) == v.proof)
        try Merkle.verifyInclusion(index: v.a, size: v.n, leafHash: leaves[v.a], proof: v.proof, root: Self.roots[v.n])
    }

    @Test("inclusion proof shapes of proof_test.go", arguments: inclusionShapes)
    func inclusionShape(_ v: ProofVector) throws {
        let leaves = Array(Self.leafHashes.prefix(v.n))
        #expect(try Merkle.inclusionProof(index: v.a, leafHashes: leaves) == v.proof)
        try Merkle.verifyInclusion(index: v.a, size: v.n, leafHash: leaves[v.a], proof: v.proof, root: Self.roots[v.n])
    }

    /// verify_test.go `corruptInclusionProof`: every probe must fail.
    @Test("corrupted inclusion proofs fail", arguments: inclusionVectors)
    func inclusionCorrupt(_ v: ProofVector) {
        let root = Self.roots[v.n], leaf = Self.leafHashes[v.a], p = v.proof
        let some = Self.d("abacaba000000000000000000000000000000000000000000060061e00123456")
        var probes: [(String, Int, Int, Digest256, [Digest256], Digest256)] = [
            ("index - 1", v.a - 1, v.n, leaf, p, root), ("index + 1", v.a + 1, v.n, leaf, p, root),
            ("index ^ 2", v.a ^ 2, v.n, leaf, p, root), ("size * 2", v.a, v.n * 2, leaf, p, root),
            ("size / 2", v.a, v.n / 2, leaf, p, root), ("wrong leaf", v.a, v.n, Digest256.of(Array("WrongLeaf".utf8)), p, root),
            ("empty root", v.a, v.n, leaf, p, Self.roots[0]), ("random root", v.a, v.n, leaf, p, some),
            ("trailing root", v.a, v.n, leaf, p + [root], root), ("preceding root", v.a, v.n, leaf, [root] + p, root),
        ]
        for i in p.indices {
            var q = p
            var b = q[i].bytes
            b[0] ^= 8
            q[i] = Digest256(bytes: b)
            probes.append(("modified proof[\(i)] bit 3", v.a, v.n, leaf, q, root))
        }
        if !p.isEmpty { probes.append(("removed component", v.a, v.n, leaf, Array(p.dropLast()), root)) }
        if p.count > 1 { probes.append(("inserted component", v.a, v.n, leaf, [p[0], some] + p.dropFirst(), root)) }
        for (name, index, size, leaf, proof, root) in probes {
            #expect(throws: LogbookError.self, "\(name)") {
                try Merkle.verifyInclusion(index: index, size: size, leafHash: leaf, proof: proof, root: root)
            }
        }
    }

    // MARK: Consistency

    @Test("published consistency proofs are generated and verify", arguments: consistencyVectors)
    func consistencyVector(_ v: ProofVector) throws {
        #expect(try Merkle.consistencyProof(oldSize: v.a, leafHashes: Array(Self.leafHashes.prefix(v.n))) == v.proof)
        try Merkle.verifyConsistency(oldSize: v.a, newSize: v.n, oldRoot: Self.roots[v.a], newRoot: Self.roots[v.n], proof: v.proof)
    }

    @Test("consistency proof shapes of proof_test.go", arguments: consistencyShapes)
    func consistencyShape(_ v: ProofVector) throws {
        #expect(try Merkle.consistencyProof(oldSize: v.a, leafHashes: Array(Self.leafHashes.prefix(v.n))) == v.proof)
        try Merkle.verifyConsistency(oldSize: v.a, newSize: v.n, oldRoot: Self.roots[v.a], newRoot: Self.roots[v.n], proof: v.proof)
    }

    /// verify_test.go `corruptConsistencyProof`, for the non-trivial vectors.
    @Test("corrupted consistency proofs fail", arguments: consistencyVectors.filter { !$0.proof.isEmpty })
    func consistencyCorrupt(_ v: ProofVector) {
        let r1 = Self.roots[v.a], r2 = Self.roots[v.n], p = v.proof
        let wrong = Digest256.of(Array("WrongRoot".utf8))
        var probes: [(String, Int, Int, Digest256, Digest256, [Digest256])] = [
            ("size1 - 1", v.a - 1, v.n, r1, r2, p), ("size1 + 1", v.a + 1, v.n, r1, r2, p), ("size1 ^ 2", v.a ^ 2, v.n, r1, r2, p),
            ("size2 * 2", v.a, v.n * 2, r1, r2, p), ("size2 / 2", v.a, v.n / 2, r1, r2, p),
            ("wrong root1", v.a, v.n, wrong, r2, p), ("wrong root2", v.a, v.n, r1, wrong, p), ("swapped roots", v.a, v.n, r2, r1, p),
            ("empty proof", v.a, v.n, r1, r2, []), ("trailing root1", v.a, v.n, r1, r2, p + [r1]), ("trailing root2", v.a, v.n, r1, r2, p + [r2]),
            ("preceding root1", v.a, v.n, r1, r2, [r1] + p), ("preceding root2", v.a, v.n, r1, r2, [r2] + p),
            ("preceding proof[0]", v.a, v.n, r1, r2, [p[0]] + p), ("truncated proof", v.a, v.n, r1, r2, Array(p.dropLast())),
        ]
        for i in p.indices {
            var q = p
            var b = q[i].bytes
            b[0] ^= 16
            q[i] = Digest256(bytes: b)
            probes.append(("modified proof[\(i)] bit 4", v.a, v.n, r1, r2, q))
        }
        for (name, m, n, a, b, proof) in probes {
            #expect(throws: LogbookError.self, "\(name)") {
                try Merkle.verifyConsistency(oldSize: m, newSize: n, oldRoot: a, newRoot: b, proof: proof)
            }
        }
    }

    /// verify_test.go `TestVerifyConsistency`'s edge table.
    @Test("consistency edge cases: empty trees, equal sizes, time travel")
    func consistencyEdges() throws {
        let a = Digest256.of(Array("don't care 1".utf8)), b = Digest256.of(Array("don't care 2".utf8))
        let e = Merkle.emptyRoot
        try Merkle.verifyConsistency(oldSize: 0, newSize: 0, oldRoot: a, newRoot: a, proof: [])
        try Merkle.verifyConsistency(oldSize: 0, newSize: 1, oldRoot: a, newRoot: b, proof: [])
        try Merkle.verifyConsistency(oldSize: 1, newSize: 1, oldRoot: b, newRoot: b, proof: [])
        let bad: [(Int, Int, Digest256, Digest256, [Digest256])] = [
            (0, 0, a, b, []), (1, 1, a, b, []), (1, 0, a, b, []), (2, 1, a, b, []), (1, 2, a, b, []),
            (0, 0, e, b, []), (1, 1, e, b, []), (0, 0, e, e, [e]), (0, 1, e, e, [e]), (1, 1, e, e, [e]),
        ]
        for (m, n, r1, r2, p) in bad {
            #expect(throws: LogbookError.self, "\(m)→\(n)") { try Merkle.verifyConsistency(oldSize: m, newSize: n, oldRoot: r1, newRoot: r2, proof: p) }
        }
        #expect(throws: LogbookError.self) { try Merkle.inclusionRanges(index: 0, size: 0) }
        #expect(throws: LogbookError.self) { try Merkle.inclusionRanges(index: 7, size: 7) }
        #expect(throws: LogbookError.self) { try Merkle.consistencyRanges(oldSize: 9, newSize: 8) }
    }

    // MARK: Exhaustive, against the recursive definitions of RFC 6962 §2.1

    static func mth(_ d: ArraySlice<Digest256>) -> Digest256 {
        if d.isEmpty { return Merkle.emptyRoot }
        if d.count == 1 { return d.first! }
        var k = 1
        while k * 2 < d.count { k *= 2 }
        return Merkle.nodeHash(mth(d.prefix(k)), mth(d.dropFirst(k)))
    }

    @Test("every inclusion and consistency proof up to 33 leaves verifies; streamed roots match MTH")
    func exhaustive() throws {
        let leaves = (0..<33).map { Merkle.leafHash(Array("leaf \($0)".utf8)) }
        var acc = MerkleAccumulator()
        for n in 1...leaves.count {
            acc.append(leafHash: leaves[n - 1])
            let prefix = Array(leaves.prefix(n))
            let root = Self.mth(prefix[...])
            #expect(acc.root == root)
            for i in 0..<n {
                let p = try Merkle.inclusionProof(index: i, leafHashes: prefix)
                try Merkle.verifyInclusion(index: i, size: n, leafHash: prefix[i], proof: p, root: root)
            }
            for m in 0...n {
                let p = try Merkle.consistencyProof(oldSize: m, leafHashes: prefix)
                try Merkle.verifyConsistency(oldSize: m, newSize: n, oldRoot: Self.mth(prefix.prefix(m)), newRoot: root, proof: p)
            }
        }
    }

    @Test("the proof builder needs enough leaves")
    func builderTooFewLeaves() throws {
        var b = MerkleProofBuilder(ranges: try Merkle.inclusionRanges(index: 1, size: 8))
        for h in Self.leafHashes.prefix(5) { b.append(leafHash: h) }
        #expect(b.leavesNeeded == 8)
        #expect(throws: LogbookError.self) { try b.finish() }
    }

    // MARK: Golden proofs from an independent implementation

    static let golden: JSONValue = {
        let url = Bundle.module.url(forResource: "Resources", withExtension: nil)!.appendingPathComponent("golden/checkpoint-proofs.json")
        return try! JSONParser.parse(Array(try! Data(contentsOf: url)))
    }()

    static func b64(_ v: JSONValue?) -> Digest256 { Digest256(bytes: Base64.decode(v!.stringValue!)!) }

    @Test("roots, inclusion and consistency proofs equal golden/checkpoint-proofs.json (Python, RFC 6962 recursive definitions)")
    func goldenProofs() throws {
        let g = Self.golden
        let leaves = g["leaves_hex"]!.arrayValue!.map { Merkle.leafHash(Self.raw($0.stringValue!)) }
        let roots = g["roots_b64"]!.arrayValue!.map { Self.b64($0) }
        var acc = MerkleAccumulator()
        #expect(acc.root == roots[0])
        for (i, l) in leaves.enumerated() {
            acc.append(leafHash: l)
            #expect(acc.root == roots[i + 1])
        }
        for c in g["inclusion"]!.arrayValue! {
            let i = c["index"]!.intValue!, n = c["size"]!.intValue!
            let want = c["path_b64"]!.arrayValue!.map { Self.b64($0) }
            #expect(try Merkle.inclusionProof(index: i, leafHashes: Array(leaves.prefix(n))) == want, "inclusion \(i)/\(n)")
            try Merkle.verifyInclusion(index: i, size: n, leafHash: leaves[i], proof: want, root: roots[n])
        }
        for c in g["consistency"]!.arrayValue! {
            let m = c["old"]!.intValue!, n = c["new"]!.intValue!
            let want = c["path_b64"]!.arrayValue!.map { Self.b64($0) }
            #expect(try Merkle.consistencyProof(oldSize: m, leafHashes: Array(leaves.prefix(n))) == want, "consistency \(m)→\(n)")
            try Merkle.verifyConsistency(oldSize: m, newSize: n, oldRoot: roots[m], newRoot: roots[n], proof: want)
        }
    }
}
