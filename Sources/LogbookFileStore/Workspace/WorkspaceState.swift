import Foundation
import LogbookCore

/// `state.txt`: the workspace's global clock g, its phase, and the pointer to the live status.
///
/// HAIOS shape: `os_file_header` {file_id, entity_type, g_file_created, g_file_last_modified,
/// v_file_instance} and `payload` {g, ph, st, current_exec_status_id_ref, rt, workspace_id}.
public struct WorkspaceState: Sendable, Equatable {
    public var json: JSONValue

    public static func initial() -> WorkspaceState {
        let id = "ws-" + Hex.encode((0..<8).map { _ in UInt8.random(in: 0...255) })
        return WorkspaceState(json: .object(JSONObject([
            ("os_file_header", .object(JSONObject([
                ("file_id", "state"), ("entity_type", "OSState"), ("schema_definition_id_ref", "HybridAI_OS_State_v1"),
                ("g_file_created", 0), ("g_file_last_modified", 0), ("v_file_instance", 1),
            ]))),
            ("payload", .object(JSONObject([
                ("g", 0), ("ph", "IDLE"), ("st", "READY"), ("current_exec_status_id_ref", .null),
                ("workspace_id", .string(id)), ("rt", .object(JSONObject())),
            ]))),
        ])))
    }

    public init(json: JSONValue) { self.json = json }

    public init(bytes: [UInt8]) throws(LogbookError) {
        do { json = try JSONParser.parse(bytes) } catch {
            throw LogbookError(.corrupt, "state.txt is not valid JSON: \(error)")
        }
        guard let p = json["payload"]?.objectValue, p["g"]?.intValue != nil else {
            throw LogbookError(.corrupt, "state.txt has no payload.g (the workspace clock)", path: "payload.g")
        }
        guard json["os_file_header"]?["v_file_instance"]?.intValue != nil else {
            throw LogbookError(.corrupt, "state.txt has no os_file_header.v_file_instance", path: "os_file_header.v_file_instance")
        }
    }

    public var payload: JSONObject { json["payload"]?.objectValue ?? JSONObject() }
    public var g: Int { payload["g"]?.intValue ?? 0 }
    public var version: Int { json["os_file_header"]?["v_file_instance"]?.intValue ?? 0 }
    public var workspaceID: String { payload["workspace_id"]?.stringValue ?? "ws" }
    /// `exec_status_<g>` of the live status, if any.
    public var currentStatusID: String? { payload["current_exec_status_id_ref"]?.stringValue }
    public var currentPlanG: Int? {
        guard let s = currentStatusID, s.hasPrefix("exec_status_") else { return nil }
        return Int(s.dropFirst("exec_status_".count))
    }

    /// The next version: payload changed by `change`, header bumped.
    func updated(_ change: (inout JSONObject) -> Void) -> WorkspaceState {
        guard var root = json.objectValue, var header = root["os_file_header"]?.objectValue else { return self }
        var p = payload
        change(&p)
        header["v_file_instance"] = .number(Double(version + 1))
        header["g_file_last_modified"] = p["g"] ?? 0
        root["os_file_header"] = .object(header)
        root["payload"] = .object(p)
        return WorkspaceState(json: .object(root))
    }
}

extension Workspace {
    public func readState() throws -> WorkspaceState {
        try WorkspaceState(bytes: readFile(statePath))
    }

    /// Changes state.txt atomically under the workspace lock, refusing if its version is not
    /// `expectedVersion` (when given): two state writers cannot both win.
    @discardableResult
    func updateState(expectedVersion: Int? = nil, _ change: (inout JSONObject) -> Void) throws -> WorkspaceState {
        let current = try readState()
        if let expectedVersion, current.version != expectedVersion {
            throw LogbookError(.conflict, "state.txt changed (v_file_instance \(current.version), expected \(expectedVersion))")
        }
        let next = current.updated(change)
        try AtomicFile(ops: ops).write(statePath, PrettyJSON.bytes(next.json))
        return next
    }
}
