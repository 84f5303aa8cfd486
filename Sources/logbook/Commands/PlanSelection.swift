import LogbookCore
import LogbookEngine
import LogbookFileStore

extension LogbookEngine {
    /// The plan a command names with its positional PLAN argument or `--plan` (or neither: the one
    /// state.txt points at). Both at once must name the same plan; two different plans are
    /// contradictory and refused (exit 2) rather than one silently winning.
    func plan(argument: String?, option: String?) async throws -> PlanFile {
        guard let argument, let option else { return try await plan(argument ?? option) }
        let a = try await plan(argument), b = try await plan(option)
        guard a.g == b.g else {
            func named(_ s: String, _ f: PlanFile) -> String { s == f.id ? s : "\(s) (\(f.id))" }
            throw LogbookError(.badInput, "the plan is named twice and the names differ: argument \(named(argument, a)) and --plan \(named(option, b)); give one")
        }
        return a
    }
}

/// A plan named by a positional argument and `--plan` together, without a workspace to resolve
/// them in (through a server): both must be the same text.
enum PlanArguments {
    static func one(_ argument: String?, _ option: String?) throws -> String? {
        if let argument, let option, argument != option {
            throw LogbookError(.badInput, "the plan is named twice and the names differ: argument \(argument) and --plan \(option); give one")
        }
        for s in [argument, option].compactMap({ $0 }) where Int(s) == nil && !s.hasPrefix("exec_plan_") { try Identifier.check(s, "plan id") }
        return argument ?? option
    }
}
