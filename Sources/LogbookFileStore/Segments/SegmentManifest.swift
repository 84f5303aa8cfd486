import LogbookCore

/// `exec_status_<g>.segments.json`: the journal's rotated, gzip-compressed segments, in order.
///
/// The journal's text is the concatenation of every segment's decompressed bytes followed by the
/// live file; a cursor is a byte offset in that text, so cursors stay valid across rotations.
/// `rotating` is set while a rotation has written its segment but may not yet have emptied the
/// live file (a crash there is finished by the next writer or `logbook recover`).
public struct SegmentManifest: Sendable, Equatable {
    public struct Segment: Sendable, Equatable {
        /// `exec_status_<g>_archive_<n>.jsonl.gz`
        public var file: String
        /// Offset of the segment's first byte in the journal's text.
        public var start: Int64
        /// Decompressed length.
        public var bytes: Int64
        public var firstSeq: Int
        public var lastSeq: Int
        public var lastHash: String
        /// SHA-256 of the decompressed bytes.
        public var sha256: String
        /// The RFC 6962 tree over every event hash up to this segment's end (seq 0…lastSeq):
        /// its root, and the compact range to go on from (the next rotation needs nothing else).
        public var treeRoot: Digest256
        public var compactRange: [Digest256]

        public var end: Int64 { start + bytes }
        /// Events up to this segment's end (the checkpoint size at this rotation).
        public var treeSize: Int { lastSeq + 1 }

        public init(file: String, start: Int64, bytes: Int64, firstSeq: Int, lastSeq: Int, lastHash: String, sha256: String,
                    treeRoot: Digest256, compactRange: [Digest256]) {
            self.file = file
            self.start = start
            self.bytes = bytes
            self.firstSeq = firstSeq
            self.lastSeq = lastSeq
            self.lastHash = lastHash
            self.sha256 = sha256
            self.treeRoot = treeRoot
            self.compactRange = compactRange
        }
    }

    public var segments: [Segment] = []
    /// True from the manifest write that adds the last segment until the live file is emptied.
    public var rotating = false
    /// Set by archive's seal (``FileJournalStore/seal(_:)``) once every line is in a segment:
    /// every later append is refused (`.locked`). Written only when true.
    public var sealed = false

    public init(segments: [Segment] = [], rotating: Bool = false, sealed: Bool = false) {
        self.segments = segments
        self.rotating = rotating
        self.sealed = sealed
    }

    /// Bytes of the journal's text held by segments.
    public var segmentBytes: Int64 { segments.last?.end ?? 0 }
    public var lastSeq: Int? { segments.last?.lastSeq }

    /// Where the live file starts in the journal's text. While a rotation is unfinished and the
    /// live file still holds the rotated bytes, the live file starts where the last segment does.
    public func liveBase(liveSize: Int64) -> Int64 {
        if rotating, liveSize > 0, let last = segments.last { return last.start }
        return segmentBytes
    }

    public var json: JSONValue {
        var o = JSONObject([
            ("format", "logbook-segments-1"),
            ("rotating", .bool(rotating)),
            ("segments", .array(segments.map { s in
                .object(JSONObject([
                    ("file", .string(s.file)), ("start", JSONValue(Int(s.start))), ("bytes", JSONValue(Int(s.bytes))),
                    ("first_seq", JSONValue(s.firstSeq)), ("last_seq", JSONValue(s.lastSeq)),
                    ("last_hash", .string(s.lastHash)), ("sha256", .string(s.sha256)),
                    ("tree_size", JSONValue(s.treeSize)), ("tree_root", .string(s.treeRoot.description)),
                    ("compact_range", .array(s.compactRange.map { .string($0.description) })),
                ]))
            })),
        ])
        if sealed { o["sealed"] = true }
        return .object(o)
    }

    public init(bytes: [UInt8], name: String) throws {
        let v: JSONValue
        do { v = try JSONParser.parse(bytes) } catch {
            throw LogbookError(.corrupt, "\(name) is not valid JSON: \(error)")
        }
        guard v["format"]?.stringValue == "logbook-segments-1", let list = v["segments"]?.arrayValue else {
            throw LogbookError(.corrupt, "\(name) is not a segment manifest (format logbook-segments-1 with segments[])")
        }
        rotating = v["rotating"]?.boolValue ?? false
        sealed = v["sealed"]?.boolValue ?? false
        var expectStart: Int64 = 0
        var expectSeq = 0
        for (i, s) in list.enumerated() {
            guard let file = s["file"]?.stringValue, Identifier.isValid(file),
                  let start = s["start"]?.intValue, let bytes = s["bytes"]?.intValue,
                  let first = s["first_seq"]?.intValue, let last = s["last_seq"]?.intValue,
                  let lastHash = s["last_hash"]?.stringValue, let sha = s["sha256"]?.stringValue,
                  let root = s["tree_root"]?.stringValue.flatMap(Digest256.init), let range = s["compact_range"]?.arrayValue else {
                throw LogbookError(.corrupt, "\(name): segments[\(i)] lacks a field (file, start, bytes, first_seq, last_seq, last_hash, sha256, tree_root, compact_range)", path: "segments[\(i)]")
            }
            let compact = range.compactMap { $0.stringValue.flatMap(Digest256.init) }
            guard compact.count == range.count, compact.count == (last + 1).nonzeroBitCount else {
                throw LogbookError(.corrupt, "\(name): segments[\(i)].compact_range does not describe \(last + 1) events", path: "segments[\(i)].compact_range")
            }
            guard Int64(start) == expectStart, bytes > 0, first == expectSeq, last >= first else {
                throw LogbookError(.corrupt, "\(name): segments[\(i)] does not continue segments[\(i - 1)] (start \(start), first_seq \(first); expected \(expectStart), \(expectSeq))", path: "segments[\(i)]")
            }
            segments.append(Segment(file: file, start: Int64(start), bytes: Int64(bytes), firstSeq: first, lastSeq: last, lastHash: lastHash,
                                    sha256: sha, treeRoot: root, compactRange: compact))
            expectStart = Int64(start + bytes)
            expectSeq = last + 1
        }
    }
}
