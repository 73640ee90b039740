import Foundation
import RolloutCore

/// approvers.yaml as it is now: read again whenever the file changes, so a token replaced or removed
/// (`rollout serve --new-token`, an edit) counts from the next request, with no restart. A file that
/// no longer reads signs everyone out (fail closed) until it is fixed.
final class ApproversWatch: @unchecked Sendable {
    private let path: String
    private let log: @Sendable (String) -> Void
    private let lock = NSLock()
    private var stamp: FileStamp?
    /// False until the first request: `initial` was read before this watch took its stamp, so an edit
    /// made between the two would go unseen; the first request reads the file again.
    private var stamped = false
    private var loaded: ApproversFile

    init(path: String, initial: ApproversFile, log: @escaping @Sendable (String) -> Void) {
        self.path = path
        self.log = log
        loaded = initial
    }

    /// The approvers, re-read when the file's stamp (times, size, inode) changed.
    func current() -> ApproversFile {
        lock.withLock {
            let now = FileStamp.of(path)
            guard !stamped || now != stamp else { return loaded }
            let changed = stamped
            stamp = now
            stamped = true
            do {
                loaded = try ApproversFile.load(path: path)
                if changed { log("serve: \(path) changed; \(loaded.approvers.count) approvers") }
            } catch {
                loaded = ApproversFile(file: path)
                log("serve: \(path) no longer reads (\(error)); nobody can sign in until it is fixed")
            }
            return loaded
        }
    }
}
