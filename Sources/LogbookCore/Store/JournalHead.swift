/// Where a journal ends: the seq and chain hash of its last durable line, and the position after it.
///
/// Read from the line's top-level `"seq"` and `"hash"` members only, so it does not depend on
/// the envelope's version (every envelope keeps those two at the top level).
public struct JournalHead: Sendable, Hashable, CustomStringConvertible {
    public var seq: Int
    /// The line's `hash` member as written (`sha256:<hex>`).
    public var hash: String
    /// The position after the line (the same opaque position ``JournalLine/end`` carries).
    public var end: Int64

    public init(seq: Int, hash: String, end: Int64) {
        self.seq = seq
        self.hash = hash
        self.end = end
    }

    /// The head a line gives, or nil if the line is not a JSON object with an integer `seq` ≥ 0
    /// and a string `hash` at its top level.
    public init?(line: [UInt8], end: Int64) {
        guard let (seq, hash) = Self.seqAndHash(line) else { return nil }
        self.init(seq: seq, hash: hash, end: end)
    }

    /// The top-level `seq` and `hash` members of one journal line, whatever else it holds.
    public static func seqAndHash(_ line: [UInt8]) -> (seq: Int, hash: String)? {
        guard let v = try? JSONParser.parse(line), let o = v.objectValue,
              let seq = o["seq"]?.intValue, seq >= 0, let hash = o["hash"]?.stringValue else { return nil }
        return (seq, hash)
    }

    /// The top-level `seq` of one journal line.
    public static func seq(_ line: [UInt8]) -> Int? { seqAndHash(line)?.seq }

    public var description: String { "seq \(seq) \(hash) (end \(end))" }
}
