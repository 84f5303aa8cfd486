#if canImport(Glibc)
import Glibc
#endif
import LogbookCore

/// Archive's seal and the store's findings (what `verify` and `status` report besides lines).
extension FileJournalStore {
    /// Moves whatever the live file holds into a final segment and marks the manifest `sealed`
    /// (one more atomic, durable write). A crash between the two leaves an unsealed journal whose
    /// lines are all in segments: sealing again finishes it.
    ///
    /// On files the sealed status files (the emptied live journal, the manifest, the snapshot
    /// and every segment) are also made read-only (mode 0444).
    @discardableResult
    public func seal(_ ref: JournalRef) async throws -> SealedJournal {
        try await Blocking.run { [self] in
            let m = try sealNow(ref)
            let files = ([journalPath(ref), manifestPath(ref), snapshotPath(ref)] + m.segments.map { directory + "/" + $0.file })
                .filter { access($0, F_OK) == 0 }
            for path in files { try ops.chmod(path, 0o444) }
            return SealedJournal(parts: m.segments.count, bytes: m.segments.reduce(Int64(0)) { $0 + $1.bytes }, readOnly: files)
        }
    }

    func sealNow(_ ref: JournalRef) throws -> SegmentManifest {
        let h = try handle(ref)
        return try exclusively(h) { () throws -> SegmentManifest in
            var m = try finishRotation(ref, h, try manifest(ref, h))
            if m.sealed { return m }
            let size = try ops.size(h.fd)
            let tail = size - (try completeEnd(h, size: size))
            guard tail == 0 else {
                throw LogbookError(.refused, "the journal of \(ref) ends with \(tail) bytes of a torn line; run `logbook recover` first", plan: ref.planID)
            }
            if size > 0 {
                m = try rotate(ref, h, m, liveSize: size, strict: true)
                let left = try ops.size(h.fd)
                if m.rotating || left != 0 {
                    throw LogbookError(.io, "could not move the live journal of \(ref) into a segment (see the log)", plan: ref.planID)
                }
            }
            m.sealed = true
            try writeManifest(ref, m)
            return m
        }
    }

    public func isSealed(_ ref: JournalRef) async throws -> Bool {
        try await Blocking.run { [self] in try manifest(ref, try handle(ref)).sealed }
    }

    /// A torn tail (bytes after the last newline of the live file), an unreadable manifest, an
    /// unfinished rotation, and segment files that are missing. Segment contents are checked
    /// when they are read (`verify` reads them all), not here.
    public func findings(_ ref: JournalRef) async throws -> [StoreFinding] {
        try await Blocking.run { [self] in try findingsNow(ref) }
    }

    func findingsNow(_ ref: JournalRef) throws -> [StoreFinding] {
        let h = try handle(ref)
        try ops.flock(h.readFD, LOCK_SH)
        defer { try? ops.flock(h.readFD, LOCK_UN) }
        var out: [StoreFinding] = []
        let size = try ops.size(h.fd)
        let torn = size - (try completeEnd(h, size: size))
        if torn > 0 {
            out.append(StoreFinding(.tornTail, bytes: Int(torn), "the journal ends with \(torn) bytes of a partial line at offset \(size - torn) of \(Paths.fileName(of: h.path)) (a writer died mid-write; never acknowledged); the next writer or `logbook recover` cuts it off"))
        }
        let m: SegmentManifest
        do { m = try manifest(ref, h) } catch {
            out.append(StoreFinding(.segment, "\(Paths.fileName(of: manifestPath(ref))) cannot be used: \((error as? LogbookError)?.message ?? "\(error)")"))
            return out
        }
        let complete = try completeEnd(h, size: size)
        let durable = max(0, (try readMark(h)?.end ?? 0) - m.liveBase(liveSize: size))
        if durable < complete {
            out.append(StoreFinding(.unsynced, bytes: Int(complete - durable), "\(complete - durable) bytes of complete lines at offset \(durable) of \(Paths.fileName(of: h.path)) are not yet known to be durable (a writer between its write and its sync, or one that died there; never acknowledged); they are shown once a sync covers them: the next writer's, or `logbook recover`'s"))
        }
        if m.rotating {
            out.append(StoreFinding(.segment, "a rotation into \(m.segments.last?.file ?? "a segment") is unfinished; the next writer or `logbook recover` finishes it"))
        }
        for s in m.segments where access(directory + "/" + s.file, F_OK) != 0 {
            out.append(StoreFinding(.segment, "segment \(s.file) (seq \(s.firstSeq)–\(s.lastSeq)) is missing"))
        }
        return out
    }
}
