import ArgumentParser
import Foundation
import LogbookFileStore

struct Init: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create a workspace (state.txt, personas.json, keys/).")

    @Option(name: .long, help: ArgumentHelp("Folder to create the workspace in (default: $LOGBOOK_WORKSPACE, else the current folder).", valueName: "dir"))
    var workspace: String?

    @Flag(help: "Accept personas without keys (the ADR's simple mode); verify counts their events.")
    var allowUnsigned = false

    func run() async throws {
        let ws = try Workspace.create(at: workspace ?? ProcessInfo.processInfo.environment["LOGBOOK_WORKSPACE"].flatMap { $0.isEmpty ? nil : $0 } ?? ".", allowUnsigned: allowUnsigned)
        print("initialised workspace \(ws.root) (g 0)")
    }
}
