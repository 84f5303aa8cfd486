import LogbookCore

/// A plan in the catalog: its g, its document, and where the backend keeps it.
public struct PlanFile: Sendable {
    public var g: Int
    /// Where the backend keeps it: the file path for files, `exec_plan_<g>.txt` elsewhere.
    public var path: String
    public var document: PlanDocument
    public var id: String { document.planID ?? "exec_plan_\(g)" }
    public var journalRef: JournalRef { JournalRef(planID: id, g: g) }
    /// `exec_plan_<g>.txt`, the name a person looks for.
    public var name: String { "exec_plan_\(g).txt" }

    public init(g: Int, path: String, document: PlanDocument) {
        self.g = g
        self.path = path
        self.document = document
    }
}
