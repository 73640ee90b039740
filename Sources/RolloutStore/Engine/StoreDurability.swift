import Foundation

/// What a commit to an embedded (SQLite) store survives before its writer is answered: SQLite's
/// `synchronous` setting in WAL mode. Either survives a crash or kill of the process; they differ on a
/// power loss or a crash of the machine.
///
/// - `normal` (the default): the log is synced at each checkpoint, not at each commit. A power loss
///   can lose the last commits (never corrupt the file or break the chain), so an answered write may
///   be missing from the log afterwards.
/// - `full`: the log is synced before each commit returns, so an answered write survives a power loss
///   too. It costs one `fsync` per commit; writes that arrive together share a commit, and its sync.
///
/// `ROLLOUT_SQLITE_SYNCHRONOUS` (`normal` or `full`) chooses it for every command; a value that is neither,
/// an empty one included (`=$DURABILITY` with the variable unset), is refused rather than read as the
/// default, since it asks for a guarantee rollout would not give. Only an unset variable is `normal`.
/// The setting is per process: every process that writes the store needs it for its own writes.
public enum StoreDurability: String, Sendable, CaseIterable {
    case normal, full

    /// The environment variable that chooses it.
    public static let variable = "ROLLOUT_SQLITE_SYNCHRONOUS"

    /// The durability `ROLLOUT_SQLITE_SYNCHRONOUS` asks for, `normal` when unset.
    public static var fromEnvironment: StoreDurability {
        get throws(StoreError) { try parse(ProcessInfo.processInfo.environment[variable]) }
    }

    /// `text` as a durability (case and surrounding blanks ignored), `normal` when nil.
    public static func parse(_ text: String?) throws(StoreError) -> StoreDurability {
        guard let text else { return .normal }
        guard let durability = StoreDurability(rawValue: text.trimmingCharacters(in: .whitespaces).lowercased()) else {
            throw StoreError.badSetting(
                variable: variable, value: text,
                expected: "normal (commits survive a crash of the process) or full (they survive a power loss too, at one fsync per commit)")
        }
        return durability
    }

    /// SQLite's name for it, as `PRAGMA synchronous` takes it.
    var pragma: String { rawValue.uppercased() }

    /// What `PRAGMA synchronous` reads back once it is set.
    var sqliteLevel: Int {
        switch self {
        case .normal: 1
        case .full: 2
        }
    }
}
