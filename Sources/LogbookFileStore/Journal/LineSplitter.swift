import LogbookCore

/// Cuts journal bytes read in chunks into lines: each complete line once, allocated at its exact
/// size (a line copied out of a shared, reserved buffer would get twice that), with the cursor
/// after it; the bytes of an unfinished line wait in `pending` for the next chunk.
struct LineSplitter {
    var pending: [UInt8] = []

    /// Adds the lines that end in `chunk`, whose first byte is at `offset` of the journal's text.
    ///
    /// - Parameter limit: stop after the line that brings `total` to it.
    /// - Returns: where the bytes after that line start in `chunk` when it stopped there, else nil
    ///   (the whole chunk was taken, an unfinished line kept in `pending`).
    mutating func split(_ chunk: ArraySlice<UInt8>, at offset: Int64, into out: inout [JournalLine], total: inout Int,
                        stopAt limit: Int? = nil) -> Int? {
        var start = chunk.startIndex
        for i in chunk.indices where chunk[i] == 0x0A {
            var line = [UInt8]()
            line.reserveCapacity(pending.count + i - start)
            line.append(contentsOf: pending)
            line.append(contentsOf: chunk[start..<i])
            pending.removeAll(keepingCapacity: true)
            out.append(JournalLine(bytes: line, end: offset + Int64(i - chunk.startIndex) + 1))
            total += line.count + 1
            start = i + 1
            if let limit, total >= limit { return start }
        }
        pending.append(contentsOf: chunk[start...])
        return nil
    }
}
