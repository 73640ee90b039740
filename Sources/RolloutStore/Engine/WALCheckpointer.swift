import Dispatch
import Foundation
import GRDB

/// Moves the write-ahead log into the database file from a connection of its own, once a second, so
/// a writer never pays for a checkpoint inside its commit: a guard's p99 added latency was SQLite's
/// automatic checkpoint (3.4 ms against 0.6 ms without it, `rollout-bench guard-proxy`). The writer's
/// automatic checkpoint stays on as a backstop at `backstopPages`, for processes too short-lived for
/// the timer; a PASSIVE checkpoint never blocks a writer or a reader.
final class WALCheckpointer: @unchecked Sendable {
    /// The writer's own automatic checkpoint, in pages (about 40 MB): far above what the timer leaves.
    static let backstopPages = 10_000

    private let path: String
    private let timer: DispatchSourceTimer
    private let lock = NSLock()
    private var connection: DatabaseQueue?
    private var stopped = false

    init(path: String, interval: Double = 1) {
        self.path = path
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue.global(qos: .utility))
        timer.schedule(deadline: .now() + interval, repeating: interval, leeway: .milliseconds(200))
        timer.setEventHandler { [weak self] in self?.tick() }
        timer.resume()
    }

    /// One PASSIVE checkpoint; the connection is opened on the first (a command that ends within a
    /// second never opens it).
    private func tick() {
        lock.withLock {
            guard !stopped else { return }
            do {
                if connection == nil {
                    var configuration = Configuration()
                    configuration.label = "rollout-checkpoint"
                    configuration.busyMode = .timeout(1)
                    let opened = try DatabaseQueue(path: path, configuration: configuration)
                    // A checkpoint syncs the log and the file at NORMAL and FULL alike, never at OFF: pinned,
                    // whatever this SQLite's compiled default is. On macOS only F_FULLFSYNC reaches the disk.
                    try opened.inDatabase { db in
                        try db.execute(sql: "PRAGMA synchronous = NORMAL")
                        #if os(macOS)
                        try db.execute(sql: "PRAGMA checkpoint_fullfsync = ON")
                        #endif
                    }
                    connection = opened
                }
                _ = try connection?.writeWithoutTransaction { db in try db.checkpoint(.passive) }
            } catch {
                // A checkpoint that cannot run now runs at the next tick, or at the writer's backstop.
            }
        }
    }

    func stop() {
        timer.cancel()
        lock.withLock {
            stopped = true
            try? connection?.close()
            connection = nil
        }
    }

    deinit { timer.cancel() }
}
