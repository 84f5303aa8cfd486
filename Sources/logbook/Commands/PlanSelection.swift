import LogbookCore
import LogbookFileStore

extension Workspace {
    /// The plan a command names with its positional PLAN argument or `--plan` (or neither: the one
    /// state.txt points at). Both at once must name the same plan; two different plans are
    /// contradictory and refused (exit 2) rather than one silently winning.
    func plan(argument: String?, option: String?) throws -> PlanFile {
        guard let argument, let option else { return try plan(argument ?? option) }
        let a = try plan(argument), b = try plan(option)
        guard a.g == b.g else {
            throw LogbookError(.badInput, "the plan is named twice and the names differ: argument \(argument) (\(a.id)) and --plan \(option) (\(b.id)); give one")
        }
        return a
    }
}
