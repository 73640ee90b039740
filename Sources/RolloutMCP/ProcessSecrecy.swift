import CProcessControl
import Foundation

/// Keeps a rollout process's memory and environment from other processes of its user (Linux: not
/// dumpable, so `/proc/<pid>/environ`, `mem` and ptrace are root's alone). The servers rollout starts run
/// as the same user, and may start watchers of their own: any rollout process holding a secret (the
/// chain key, the webhook and Slack secrets) must be unreadable for its whole life, not from the moment
/// it starts a server. The `rollout` executable does this first thing; `ServerProcess` again before a
/// server starts, for other users of the library. Never undone.
public enum ProcessSecrecy {
    private static let applied: Void = {
        _ = rollout_make_undumpable()
    }()

    /// Makes this process unreadable by others of its user, once.
    public static func apply() { applied }
}
