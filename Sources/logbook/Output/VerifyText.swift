import LogbookCore

/// The verify report's one-line summary (`verify` without --json), for a local report or one a
/// server sent as JSON.
enum VerifyText {
    static func ok(plan: String, events: Int, lastSeq: Int, unsigned: Int, head: String?, segments: Int, checkpointSize: Int?) -> String {
        "verify OK: plan \(plan), \(events) events (seq 0–\(lastSeq)), \(unsigned) unsigned, head \(head ?? "-"); plan digest, trust roots, chain, signatures, rules and snapshot checked"
            + (segments > 0 ? "; \(segments) gzip segment(s) intact" : "") + (checkpointSize.map { "; matches the checkpoint at size \($0)" } ?? "")
    }

    static func failed(plan: String, _ failure: String) -> String {
        "verify FAILED: plan \(plan), \(SafeText.escape(failure))"
    }
}
