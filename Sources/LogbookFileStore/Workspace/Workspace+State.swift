import Foundation
import LogbookCore
import LogbookEngine

extension Workspace {
    public func readState() throws -> WorkspaceState {
        try WorkspaceState(bytes: readFile(statePath))
    }
}
