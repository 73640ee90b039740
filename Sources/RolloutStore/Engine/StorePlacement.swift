import Foundation

/// Where a SQLite store really is, and whether anyone but its writer could put another file in its place.
/// Whoever may write to a folder can rename and replace what is in it (the store, its log, a folder or a
/// link on the way to them), whatever the files' own modes say; whoever owns a folder can give themselves
/// that right. So every folder the path passes through, as the kernel resolves it (links followed, `..`
/// taken where it leads), must belong to the writer or root (or an owner named in `ROLLOUT_TRUSTED_OWNERS`)
/// and must not let every user add and remove names (write and search for others) unless it is sticky,
/// as `/tmp` is, where a user renames only their own files; `ssh` holds a key's folders to the same.
/// Group bits are the owner's choice (a team sharing one store) and are kept.
///
/// The store, its `-wal` and its `-shm` are named after the file the links lead to, as SQLite names
/// them. They must give no bit to others; a writer running as root also refuses them when they belong
/// to another user (root opens whatever it is given, so another user's file would be written to, and read
/// by that user, without any mode saying so).
struct StorePlacement {
    /// The store's file, every link on the way followed: where SQLite opens it and puts its log.
    let file: String
    /// Every existing folder the path passes through, from the root down, as resolved.
    let folders: [String]

    /// How many links one path may pass through (the kernel's own limit).
    static let maxLinks = 40

    /// Resolves `path` (relative to the current folder when it is not absolute). Folders not made yet
    /// end the walk: the rest of the path is taken as written.
    init(_ path: String) throws {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var pending = Self.components(absolute)
        var current = "/"
        var folders = ["/"]
        var links = 0
        var file: String?
        while !pending.isEmpty {
            let name = pending.removeFirst()
            if name == ".." {
                current = current == "/" ? "/" : (current as NSString).deletingLastPathComponent
                continue
            }
            let candidate = current == "/" ? "/" + name : current + "/" + name
            var info = stat()
            guard lstat(candidate, &info) == 0 else {
                file = ([candidate] + pending).joined(separator: "/")
                break
            }
            switch info.st_mode & S_IFMT {
            case S_IFLNK:
                links += 1
                guard links <= Self.maxLinks, let target = try? FileManager.default.destinationOfSymbolicLink(atPath: candidate) else {
                    throw StoreError.badLocation("--store \(path): the links on its way cannot be followed (more than \(Self.maxLinks), or one unreadable)")
                }
                if target.hasPrefix("/") { current = "/" }
                pending = Self.components(target) + pending
            case S_IFDIR where !pending.isEmpty:
                current = candidate
                folders.append(candidate)
            default:
                file = ([candidate] + pending).joined(separator: "/")
                pending = []
            }
        }
        self.file = file ?? current
        self.folders = folders
    }

    private static func components(_ path: String) -> [String] {
        path.split(separator: "/", omittingEmptySubsequences: true).map(String.init).filter { $0 != "." }
    }

    /// Refuses a placement anyone but `writer` (and root, and `trusted`) could change: see the type's doc.
    /// `store` is the path as given, for the message.
    func check(writer: uid_t, trusted: Set<uid_t>, store: String) throws {
        for folder in folders {
            var info = stat()
            // It was there when the path was walked: one that cannot be examined now is not taken on trust.
            guard stat(folder, &info) == 0 else {
                throw StoreError.io(path: folder, detail: "a folder on the way to the store \(store) cannot be examined (\(String(cString: strerror(errno)))): nothing is written to the store")
            }
            let mode = Int(info.st_mode)
            if mode & Int(S_IWOTH) != 0, mode & Int(S_IXOTH) != 0, mode & Int(S_ISVTX) == 0 {
                throw StoreError.exposedFolder(folder: folder, mode: mode & 0o7777, store: store)
            }
            if info.st_uid != writer, info.st_uid != 0, !trusted.contains(info.st_uid) {
                throw StoreError.foreignOwner(path: folder, owner: Self.userName(info.st_uid), store: store)
            }
        }
        for path in [file, file + "-wal", file + "-shm"] {
            var info = stat()
            guard stat(path, &info) == 0 else { continue }
            let mode = Int(info.st_mode) & 0o777
            if mode & 0o007 != 0 { throw StoreError.exposed(path: path, mode: mode) }
            if writer == 0, info.st_uid != 0, !trusted.contains(info.st_uid) {
                throw StoreError.foreignOwner(path: path, owner: Self.userName(info.st_uid), store: store)
            }
        }
    }

    /// The owners `ROLLOUT_TRUSTED_OWNERS` names (user names or numeric ids, separated by commas or
    /// spaces), trusted beside the writer and root: a container running as root over a folder of the
    /// host's user. A name that is no user of this machine is an error, not ignored.
    static func trustedOwners(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Set<uid_t> {
        guard let text = environment["ROLLOUT_TRUSTED_OWNERS"] else { return [] }
        var owners: Set<uid_t> = []
        for entry in text.split(whereSeparator: { $0 == "," || $0 == " " }) {
            if let id = uid_t(entry) {
                owners.insert(id)
            } else if let user = getpwnam(String(entry)) {
                owners.insert(user.pointee.pw_uid)
            } else {
                throw StoreError.badLocation("ROLLOUT_TRUSTED_OWNERS: \(entry) is no user of this machine; give user names or numeric ids, separated by commas")
            }
        }
        return owners
    }

    /// A user's name and id as a message shows them.
    static func userName(_ id: uid_t) -> String {
        guard let user = getpwuid(id) else { return "uid \(id)" }
        return "\(String(cString: user.pointee.pw_name)) (uid \(id))"
    }
}
