/// The kind of change a write tool makes.
public enum WriteOperation: String, Sendable, Hashable, CaseIterable, Codable {
    case create
    case update
    case delete
    case bulkUpdate = "bulk_update"

    /// Whether one call may touch many rows.
    public var isMultiRow: Bool { self == .bulkUpdate }

    /// Whether the operation removes data.
    public var isDestructive: Bool { self == .delete }
}
