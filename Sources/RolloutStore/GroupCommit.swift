import Foundation

/// Group commit for the store's writers: writes that arrive while a transaction commits wait and share
/// the next one, so a guard under load pays one commit for many decisions instead of one each.
///
/// What it keeps of one-transaction-per-write: the writes run in arrival order, and one that throws
/// rolls back alone (the group runs again with a savepoint per write, `commitGroup`) while the others
/// of its group see exactly what they would have seen run one after another; no write is answered
/// before the transaction holding it has committed, so an acknowledged write survives a crash or a
/// SIGKILL; a commit that fails fails every
/// write of its group, with nothing written. A write that arrives at an idle store runs at once: nothing
/// waits on a timer to fill a group, and one that finds no group running runs on its caller's thread.
final class GroupCommit: @unchecked Sendable {
    /// How many writes one transaction takes at most, so a long queue still commits in steps (and a
    /// PostgreSQL backend stays within its cache of 64 subtransactions, beyond which readers slow).
    static let maxGroup = 64

    private let lock = NSLock()
    private var queue: [any GroupedWrite] = []
    private var draining = false
    private let worker = DispatchQueue(label: "rollout.store.group-commit", qos: .userInitiated)
    private var counts = GroupCommitCounts()
    /// The store whose transactions the groups run in (it owns this).
    weak var store: AuditStore?

    /// Queues `write`; the worker runs it in the next group and answers it once that group has committed.
    func submit(_ write: any GroupedWrite) {
        lock.lock()
        queue.append(write)
        let start = !draining
        draining = true
        lock.unlock()
        if start { worker.async { self.drain() } }
    }

    /// Runs `write` at once on the caller's thread when no group is running or waiting (an idle store
    /// pays no hand-over to the worker); returns false, having done nothing, when one is.
    func runAlone(_ write: any GroupedWrite) -> Bool {
        lock.lock()
        guard !draining else {
            lock.unlock()
            return false
        }
        draining = true
        counts.groups += 1
        counts.writes += 1
        counts.largest = max(counts.largest, 1)
        lock.unlock()
        if let store {
            store.commitGroup([write])
        } else {
            write.finish(StoreError.io(path: "the store", detail: "it was closed before the write ran"))
        }
        // Writes that arrived meanwhile queued behind this one: the worker takes them from here.
        lock.lock()
        let handOver = !queue.isEmpty
        if !handOver { draining = false }
        lock.unlock()
        if handOver { worker.async { self.drain() } }
        return true
    }

    /// How many writes wait for the next group.
    var queued: Int {
        lock.lock()
        defer { lock.unlock() }
        return queue.count
    }

    /// How many groups and writes have committed or failed so far.
    var statistics: GroupCommitCounts {
        lock.lock()
        defer { lock.unlock() }
        return counts
    }

    private func drain() {
        while true {
            lock.lock()
            if queue.isEmpty {
                draining = false
                lock.unlock()
                return
            }
            let group = Array(queue.prefix(Self.maxGroup))
            queue.removeFirst(group.count)
            counts.groups += 1
            counts.writes += group.count
            counts.largest = max(counts.largest, group.count)
            lock.unlock()
            if let store {
                store.commitGroup(group)
            } else {
                for write in group { write.finish(StoreError.io(path: "the store", detail: "it was closed before the write ran")) }
            }
        }
    }
}

/// How group commit has gone in this process: `writes / groups` is the mean group size.
public struct GroupCommitCounts: Sendable, Equatable {
    public var groups = 0
    public var writes = 0
    public var largest = 0
}

/// One queued write of a group: runs in the group's transaction, then is answered.
protocol GroupedWrite: AnyObject {
    func run(_ transaction: inout StoreTransaction) throws
    /// Answers the writer: its result once committed, or why it did not happen.
    func finish(_ failure: (any Error)?)
}

/// A write and the task waiting for it. The waiting task is suspended until `finish`, and the body runs
/// on the group's worker alone, so nothing here is touched from two threads at once.
final class PendingWrite<T>: GroupedWrite, @unchecked Sendable {
    private let body: (inout StoreTransaction) throws -> T
    private var result: T?
    private var failure: (any Error)?
    private var continuation: CheckedContinuation<UncheckedResult<T>, any Error>?

    init(_ body: @escaping (inout StoreTransaction) throws -> T) {
        self.body = body
    }

    /// Runs the write and waits for its commit; `queued` sends it to the worker even on an idle store.
    func wait(in group: GroupCommit, queued: Bool = false) async throws -> T {
        if !queued, group.runAlone(self) {
            if let failure { throw failure }
            return result!
        }
        return try await withCheckedThrowingContinuation { continuation in
            self.continuation = continuation
            group.submit(self)
        }.value
    }

    func run(_ transaction: inout StoreTransaction) throws {
        result = try body(&transaction)
    }

    func finish(_ failure: (any Error)?) {
        self.failure = failure
        guard let continuation else { return }
        self.continuation = nil
        if let failure {
            continuation.resume(throwing: failure)
        } else {
            continuation.resume(returning: UncheckedResult(value: result!))
        }
    }
}

/// A write's result handed from the group's worker to the task that waited for it (see `PendingWrite`).
struct UncheckedResult<T>: @unchecked Sendable {
    let value: T
}

extension AuditStore {
    /// Runs `body` in a write transaction shared with the writes that arrive while another commits
    /// (group commit): the guard's decisions use it. Returns once the transaction holding it has
    /// committed; throws, with nothing of `body` written, when `body` throws or the commit fails.
    /// `body` must do nothing but read and write the store: it may run on another thread, and it may run
    /// twice (when another write of its group throws, the group is rolled back and runs again, each write
    /// then in its own savepoint; only the last run's result is answered and committed).
    public func writeGrouped<T>(_ body: @escaping (inout StoreTransaction) throws -> T) async throws -> T {
        try await PendingWrite(body).wait(in: groupCommit)
    }

    /// How group commit has gone in this process (benchmarks print the mean group size).
    public var groupCommitStatistics: GroupCommitCounts { groupCommit.statistics }

    /// Runs one group in one transaction, then answers each write. On SQLite the writes first run one
    /// after another with no savepoint between them: a savepoint makes SQLite copy every page a write
    /// first touches into its sub-journal, about 15% of the rate at 64 in flight (Benchmarks/README,
    /// "The group's savepoints"). When one of them throws, that transaction is rolled back whole and the
    /// group runs again with a savepoint per write, so the write that threw fails alone and the others
    /// see what they would have seen run one after another.
    /// PostgreSQL reports a statement's error late (at a later round trip of the pipeline): only its
    /// savepoints tell which write the error belongs to, so it always takes them.
    func commitGroup(_ writes: [any GroupedWrite]) {
        if writes.count > 1, engine.dialect == .sqlite {
            var bodyFailed = false
            do {
                try write { transaction in
                    for write in writes {
                        do {
                            try write.run(&transaction)
                        } catch {
                            bodyFailed = true
                            throw error
                        }
                    }
                }
                for write in writes { write.finish(nil) }
                return
            } catch {
                // The store refused the transaction itself (its commit, its checks): every write fails.
                guard bodyFailed else {
                    for write in writes { write.finish(error) }
                    return
                }
                // A write threw and nothing of the group was written: run it again, a savepoint per write.
            }
        }
        commitWithSavepoints(writes)
    }

    /// Runs one group: each write inside a savepoint, the whole in one transaction; then answers each.
    func commitWithSavepoints(_ writes: [any GroupedWrite]) {
        var failures = [(any Error)?](repeating: nil, count: writes.count)
        do {
            try write { transaction in
                if writes.count == 1 {
                    // Alone, the transaction is its savepoint: a throw rolls it back and fails it below.
                    try writes[0].run(&transaction)
                    return
                }
                for (i, write) in writes.enumerated() {
                    let before = transaction
                    try transaction.sql.execute("SAVEPOINT rollout_grouped")
                    do {
                        try write.run(&transaction)
                        try transaction.sql.execute("RELEASE rollout_grouped")
                    } catch {
                        failures[i] = error
                        transaction.sql.discardPending()
                        try transaction.sql.execute("ROLLBACK TO rollout_grouped")
                        try transaction.sql.execute("RELEASE rollout_grouped")
                        transaction = before
                    }
                }
            }
        } catch {
            for write in writes { write.finish(error) }
            return
        }
        for (write, failure) in zip(writes, failures) { write.finish(failure) }
    }
}
