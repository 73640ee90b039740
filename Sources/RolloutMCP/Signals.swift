import Foundation

/// SIGTERM, SIGINT and SIGHUP end the process with status 128 + the signal, whatever thread is busy:
/// a host stopping `rollout guard`, or Ctrl-C on `audit tail --follow`. The runtime's worker threads
/// block these signals, so the calling (main) thread unblocks them and takes the handler. The servers
/// rollout started are asked to stop first (they would otherwise outlive it, waiting on a pipe nobody
/// writes). A write in flight stays as its intent says (in_doubt), which is what a crash leaves too.
public enum Signals {
    private static let installed: Void = {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in [SIGTERM, SIGINT, SIGHUP] {
            sigaddset(&set, signal)
            Foundation.signal(signal) { received in
                ChildProcesses.terminateAll()
                _exit(128 + received)
            }
        }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }()

    public static func exitOnTermination() { installed }
}

/// The child processes (MCP servers) alive now, for the signal handler: a fixed table it can read
/// without locks or allocation.
enum ChildProcesses {
    static let capacity = 64
    nonisolated(unsafe) static let table: UnsafeMutablePointer<Int32> = {
        let table = UnsafeMutablePointer<Int32>.allocate(capacity: capacity)
        table.initialize(repeating: 0, count: capacity)
        return table
    }()
    static let lock = NSLock()

    static func register(_ pid: Int32) {
        lock.lock()
        defer { lock.unlock() }
        for i in 0..<capacity where table[i] == 0 {
            table[i] = pid
            return
        }
    }

    static func unregister(_ pid: Int32) {
        lock.lock()
        defer { lock.unlock() }
        for i in 0..<capacity where table[i] == pid { table[i] = 0 }
    }

    /// Async-signal-safe: only reads the table and calls kill(2).
    static func terminateAll() {
        for i in 0..<capacity {
            let pid = table[i]
            if pid > 0 { kill(pid, SIGTERM) }
        }
    }
}
