#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LogbookCore
import LogbookEngine

extension FileCatalog {
    /// Every `exec_plan_<g>.txt` in the folder, by g. A plan file that does not parse is an
    /// error naming it (as every reader of the workspace reports it).
    public func listPlans() async throws -> [PlanFile] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        var out: [PlanFile] = []
        for n in names where n.hasPrefix("exec_plan_") && n.hasSuffix(".txt") {
            guard let g = Int(n.dropFirst("exec_plan_".count).dropLast(4)) else { continue }
            if let p = try readPlan(g: g) { out.append(p) }
        }
        return out.sorted { $0.g < $1.g }
    }

    public func loadPlan(g: Int) async throws -> PlanFile? {
        try readPlan(g: g)
    }

    func readPlan(g: Int) throws -> PlanFile? {
        let path = planPath(g: g)
        guard let bytes = try readIfPresent(path) else { return nil }
        return PlanFile(g: g, path: path, document: try PlanDocument(bytes: bytes, name: Paths.fileName(of: path)))
    }

    /// Writes a DRAFT at `exec_plan_<g>.txt`: created by link (never clobbering) with `create`,
    /// else replaced by rename. Refuses a locked document (`.badInput`: locked plans are
    /// installed) and replacing a locked plan (`.locked`); nothing is written then.
    public func storeDraft(_ document: PlanDocument, g: Int, create: Bool) async throws -> PlanFile {
        let path = planPath(g: g)
        let name = Paths.fileName(of: path)
        try Self.checkDraft(document, name: name)
        if create {
            let result = Result { () throws(LogbookError) in try atomic.create(path, PrettyJSON.bytes(document.json)) }
            if case .failure(let e) = result {
                if e.code == .alreadyExists {
                    throw LogbookError(.alreadyExists, "\(name) already exists; a new DRAFT is never written over a plan (nothing written)", plan: document.planID, path: name)
                }
                throw e
            }
        } else {
            if let existing = try readPlan(g: g), existing.document.isLocked {
                throw LogbookError(.locked, "\(name) holds the locked plan \(existing.id), which cannot change (nothing written)", plan: existing.id, path: name)
            }
            try atomic.write(path, PrettyJSON.bytes(document.json))
        }
        return PlanFile(g: g, path: path, document: document)
    }

    /// The whole file, or nil when there is none.
    func readIfPresent(_ path: String) throws -> [UInt8]? {
        do { return try ops.readCatalogFile(path) } catch let e as LogbookError {
            if e.code == .notFound { return nil }
            throw e
        }
    }

    static func checkDraft(_ document: PlanDocument, name: String) throws {
        if document.isLocked {
            throw LogbookError(.badInput, "\(name): a locked plan document is installed (lock, migrate), never stored as a DRAFT (nothing written)", plan: document.planID, path: name)
        }
    }
}
