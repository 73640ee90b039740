import ArgumentParser
import Foundation

/// Starting a program from a benchmark and waiting for it, without the run-loop polling of `Process`.
enum BenchProcess {
    /// posix_spawn and waitpid: Foundation's `Process.waitUntilExit` polls its run loop every 50 ms on
    /// Linux, which would be the whole measurement.
    static func spawn(_ binary: String, _ arguments: [String], quiet: Bool = false) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        if quiet { posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0) }
        let argv = ([binary] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, binary, &actions, nil, argv, environ)
        guard rc == 0 else { throw ValidationError("cannot start \(binary): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        guard status == 0 else { throw ValidationError("rollout \(arguments.joined(separator: " ")) failed (wait status \(status))") }
    }
}
