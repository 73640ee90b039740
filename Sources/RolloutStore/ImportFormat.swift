import RolloutCore

/// The record formats `rollout audit import` reads.
public enum ImportFormat: String, Sendable, CaseIterable {
    /// rollout's JSON Lines interchange format (DESIGN.md, "The audit log").
    case jsonl
    /// OrmAI's audit records (`JsonlAuditStore`): `tool_name`, `principal_id`, `inputs`, snapshots.
    case ormai
    /// Decide from the first record.
    case auto

    /// The format of one record, for `auto`.
    static func detect(_ record: JSONValue) -> ImportFormat {
        if record["tool_name"] != nil, record["principal_id"] != nil || record["inputs"] != nil { return .ormai }
        return .jsonl
    }
}
