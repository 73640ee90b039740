import Foundation

/// What a watched file looks like to `stat(2)`: a long-running process compares it on each use to
/// learn whether `tenants.yaml` or `approvers.yaml` changed. One system call, where Foundation's
/// `attributesOfItem` also reads /etc/passwd and /etc/group for the owner's names (four opens per
/// look, twice per guarded call, in `rollout-bench guard-proxy`'s profile). An edit in place changes
/// the modification time or size, a file replaced by rename changes the inode; a file that is gone
/// or unreadable has no stamp, which differs from every stamp it had.
public struct FileStamp: Sendable, Hashable {
    public let device: UInt64
    public let inode: UInt64
    public let size: Int64
    public let modifiedSeconds: Int64
    public let modifiedNanoseconds: Int64
    public let changedSeconds: Int64
    public let changedNanoseconds: Int64

    /// The file's stamp now, or nil when it cannot be stat'ed.
    public static func of(_ path: String) -> FileStamp? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        #if canImport(Darwin)
        let modified = info.st_mtimespec, changed = info.st_ctimespec
        #else
        let modified = info.st_mtim, changed = info.st_ctim
        #endif
        return FileStamp(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
            modifiedSeconds: Int64(modified.tv_sec), modifiedNanoseconds: Int64(modified.tv_nsec),
            changedSeconds: Int64(changed.tv_sec), changedNanoseconds: Int64(changed.tv_nsec))
    }
}
