/// Why the store refused or failed, in words a person can act on.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    /// Another process holds the write lock longer than the busy timeout.
    case busy(path: String, seconds: Double)
    /// The file is not a rollout store, or was made by a newer rollout.
    case incompatible(path: String, detail: String)
    /// A line of an import file could not be read; nothing of the file was imported.
    case badRecord(file: String, line: Int, field: String, message: String)
    /// A file rollout reads whole (an anchor) is not what it should be, at a line and field.
    case badFile(file: String, line: Int, field: String, message: String)
    case notFound(String)
    case io(path: String, detail: String)
    /// The writer's chain key does not match the store's signed chain.
    case chainKey(String)
    /// A statement broke a constraint (a duplicate key, a missing value).
    case constraint(String)
    /// The database server refused or dropped the connection, or failed a statement.
    case server(location: String, message: String)
    /// `--store` names something rollout cannot open: an unknown URL scheme, a folder that does not exist.
    case badLocation(String)
    /// An environment setting of the store (`variable`) holds a value rollout does not know: nothing is
    /// opened rather than the setting read as its default.
    case badSetting(variable: String, value: String, expected: String)
    /// An event's stored body is no audit event (the log was edited); `tenant` and `tool` are its row's
    /// columns as stored, for whoever records what could not be done with it.
    case unreadableEvent(seq: Int64, tenant: String?, tool: String?, detail: String)
    /// rollout's own tables, indexes or triggers are not as its migrations made them (`StoreSchema`):
    /// nothing is written to the store.
    case schemaEdited(path: String, differences: [String])
    /// The store file (or its log) is open to every user of the machine: nothing is written to it.
    case exposed(path: String, mode: Int)
    /// A folder that holds the store, or one on the way to it, may be written by every user: nothing is
    /// written to the store.
    case exposedFolder(folder: String, mode: Int, store: String)
    /// A folder on the way to the store (or, for a writer running as root, a store file) belongs to another
    /// user, who could put another file in its place: nothing is written to the store.
    case foreignOwner(path: String, owner: String, store: String)

    public var description: String {
        switch self {
        case .busy(let path, let seconds):
            "the store \(path) is busy: another rollout process held its write lock for more than \(seconds)s; nothing was written, try again"
        case .incompatible(let path, let detail): "\(path) cannot be used as a rollout store: \(detail)"
        case .badRecord(let file, let line, let field, let message):
            "\(file):\(line): \(field.isEmpty ? "" : field + ": ")\(message); nothing from this file was imported"
        case .badFile(let file, let line, let field, let message):
            "\(file):\(line): \(field.isEmpty ? "" : field + ": ")\(message)"
        case .notFound(let what): what
        case .io(let path, let detail): "\(path): \(detail)"
        case .chainKey(let message): message
        case .badLocation(let message): message
        case .badSetting(let variable, let value, let expected): "\(variable)=\(value.debugDescription): expected \(expected); nothing was opened"
        case .constraint(let message): "constraint failed: \(message)"
        case .server(let location, let message): "the store \(location): \(message)"
        case .unreadableEvent(let seq, _, _, let detail):
            "audit event \(seq) cannot be read (\(detail)): the audit log was edited; run rollout audit verify"
        case .exposed(let path, let mode):
            "\(path) is open to every user of this machine (mode \(String(mode, radix: 8))): a store holds the clear values of redacted fields and its redaction key, so rollout writes nothing to it; run chmod o-rwx on the store and its -wal and -shm files (rollout makes new stores 0600)"
        case .exposedFolder(let folder, let mode, let store):
            "the folder \(folder), on the way to the store \(store), may be written by every user of this machine (mode \(String(mode, radix: 8)), no sticky bit): "
                + "anyone could put another file or folder in the store's place or remove its log, so rollout writes nothing to it; run chmod o-w \(folder), or keep the store in a folder of your own"
        case .foreignOwner(let path, let owner, let store):
            "\(path) belongs to \(owner), not to you or root: that user could put another file in the place of the store \(store), or read it, so rollout writes nothing to it. "
                + "Keep the store in folders of your own (or root's), run rollout as that user, or, if that user is you under another id (a container over a folder of the host's), "
                + "name it in ROLLOUT_TRUSTED_OWNERS"
        case .schemaEdited(let path, let differences):
            "the schema of \(path) was changed outside rollout (\(differences.joined(separator: "; "))): a trigger or index changed by hand can undo or hide the guard's ledgers, so nothing was written; put rollout's own definitions back (rollout audit verify names every difference) or restore the store from a copy you trust"
        }
    }
}
