import Foundation

/// `state.txt`: the workspace's global clock g, its phase, and the pointer to the live status.
///
/// Written in the ratified HAIOS `state.txt` v1.0 shape: `os_file_header` {file_id `state`,
/// entity_type `STATE`, schema_definition_id_ref `HybridAI_OS_State_Payload_v1.0`,
/// g_file_created, g_file_last_modified, v_file_instance} and `payload` {g, vector_clock,
/// last_mutation_trace_id, ph, st, partition_status, cp_id, ct_id, current_exec_status_id_ref, rt,
/// active_issue_ids, last_error}, plus Logbook's `workspace_id` (an extension). Every write
/// (``updated(_:)``) produces that shape, whatever the file held before: files written by earlier
/// versions (entity_type `OSState`, `st` `ACTIVE`/`IDLE`, fields missing) are read and rewritten.
public struct WorkspaceState: Sendable, Equatable {
    public var json: JSONValue

    public static let entityType = "STATE"
    public static let schemaID = "HybridAI_OS_State_Payload_v1.0"
    public static let phases: Set<String> = ["ANALYZE", "BLUEPRINT", "CONSTRUCT", "VALIDATE", "IDLE"]
    public static let statuses: Set<String> = ["READY", "BUSY", "BLOCK_INPUT"]
    public static let partitionStatuses: Set<String> = ["CONSISTENT", "PARTITIONED", "RECONCILING"]

    public static func initial() -> WorkspaceState {
        let id = "ws-" + Hex.encode((0..<8).map { _ in UInt8.random(in: 0...255) })
        return WorkspaceState(json: .object(JSONObject([
            ("os_file_header", .object(JSONObject([
                ("file_id", "state"), ("entity_type", .string(entityType)), ("schema_definition_id_ref", .string(schemaID)),
                ("g_file_created", 0), ("g_file_last_modified", 0), ("v_file_instance", 1),
            ]))),
            ("payload", .object(ratifiedPayload(JSONObject([("g", 0), ("workspace_id", .string(id))])))),
        ])))
    }

    /// `p` with every field of the ratified payload: missing ones get their default, values of
    /// earlier versions their ratified form (`st` `ACTIVE` → `BUSY`, `IDLE` → `READY`; a phase
    /// outside the enum → from the pointer). `ph` and `st` follow the pointer when it is unset:
    /// a live status is `CONSTRUCT`/`BUSY`, none is `IDLE`/`READY`.
    public static func ratifiedPayload(_ p: JSONObject) -> JSONObject {
        var out = p
        let live = p["current_exec_status_id_ref"]?.stringValue != nil
        out["g"] = p["g"] ?? 0
        out["vector_clock"] = p["vector_clock"].flatMap { $0.stringValue != nil ? $0 : nil } ?? .null
        out["last_mutation_trace_id"] = p["last_mutation_trace_id"].flatMap { $0.stringValue != nil ? $0 : nil } ?? .null
        if let ph = p["ph"]?.stringValue, phases.contains(ph) {} else { out["ph"] = live ? "CONSTRUCT" : "IDLE" }
        switch p["st"]?.stringValue {
        case let st? where statuses.contains(st): break
        case "ACTIVE"?: out["st"] = "BUSY"
        case "IDLE"?: out["st"] = "READY"
        default: out["st"] = live ? "BUSY" : "READY"
        }
        if let ps = p["partition_status"]?.stringValue, partitionStatuses.contains(ps) {} else { out["partition_status"] = "CONSISTENT" }
        out["cp_id"] = p["cp_id"].flatMap { $0.stringValue != nil ? $0 : nil } ?? .null
        out["ct_id"] = p["ct_id"].flatMap { $0.stringValue != nil ? $0 : nil } ?? .null
        out["current_exec_status_id_ref"] = p["current_exec_status_id_ref"].flatMap { $0.stringValue != nil ? $0 : nil } ?? .null
        if p["rt"]?.objectValue == nil { out["rt"] = .object(JSONObject()) }
        if let ids = p["active_issue_ids"]?.arrayValue, ids.allSatisfy({ $0.stringValue != nil }) {} else { out["active_issue_ids"] = .array([]) }
        out["last_error"] = p["last_error"].flatMap { $0.stringValue != nil ? $0 : nil } ?? .null
        return out
    }

    /// Points `p` at a plan's live status (or at none): `current_exec_status_id_ref`, `cp_id`
    /// (the plan id), `ph` and `st` together. The writers that move the pointer use this.
    public static func point(_ p: inout JSONObject, statusID: String?, planID: String?) {
        p["current_exec_status_id_ref"] = JSONValue(statusID)
        p["cp_id"] = JSONValue(statusID == nil ? nil : planID)
        p["ph"] = statusID == nil ? "IDLE" : "CONSTRUCT"
        p["st"] = statusID == nil ? "READY" : "BUSY"
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
    /// `cp_id`: the id of the plan whose status is current, if any.
    public var currentPlanID: String? { payload["cp_id"]?.stringValue }
    /// `ct_id`: the current task (Logbook runs many agents at once, so it sets none).
    public var currentTaskID: String? { payload["ct_id"]?.stringValue }
    public var phase: String? { payload["ph"]?.stringValue }
    public var status: String? { payload["st"]?.stringValue }
    public var currentPlanG: Int? {
        guard let s = currentStatusID, s.hasPrefix("exec_status_") else { return nil }
        return Int(s.dropFirst("exec_status_".count))
    }

    /// The next version: payload changed by `change`, header bumped, both in the ratified shape.
    public func updated(_ change: (inout JSONObject) -> Void) -> WorkspaceState {
        guard var root = json.objectValue, var header = root["os_file_header"]?.objectValue else { return self }
        var p = payload
        change(&p)
        p = Self.ratifiedPayload(p)
        header["file_id"] = "state"
        header["entity_type"] = .string(Self.entityType)
        header["schema_definition_id_ref"] = .string(Self.schemaID)
        header["g_file_created"] = header["g_file_created"] ?? 0
        header["v_file_instance"] = .number(Double(version + 1))
        header["g_file_last_modified"] = p["g"] ?? 0
        root["os_file_header"] = .object(header)
        root["payload"] = .object(p)
        return WorkspaceState(json: .object(root))
    }
}

extension JSONValue {
    /// The same document with its `payload` object changed by `change`.
    public func replacingPayload(_ change: (inout JSONObject) -> Void) -> JSONValue {
        guard var root = objectValue, var p = root["payload"]?.objectValue else { return self }
        change(&p)
        root["payload"] = .object(p)
        return .object(root)
    }
}
