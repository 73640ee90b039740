import Foundation

/// Reads the audit log in ranges of sequence numbers on several read-only connections at once
/// (`AuditStore.readOnlyTwin`), each range's rows checked and walked as one `ChainRun` by the thread
/// that read it, so reading, hashing and parsing use every core; `run(_:)` hands the runs out in chain
/// order. Ranges are handed to the readers in order too, and none is started once `stop()` is called.
final class ChainRangeReader: @unchecked Sendable {
    /// Each range is the events after `after` through `through`.
    private let ranges: [(after: Int64?, through: Int64)]
    private var results: [Result<ChainRun, any Error>?]
    private let ready: [DispatchSemaphore]
    private let lock = NSLock()
    private var next = 0
    private var stopped = false

    init(twins: [AuditStore], ranges: [(after: Int64?, through: Int64)], select: String, check: ChainRowCheck) {
        self.ranges = ranges
        results = Array(repeating: nil, count: ranges.count)
        ready = ranges.map { _ in DispatchSemaphore(value: 0) }
        for twin in twins {
            DispatchQueue.global(qos: .userInitiated).async {
                self.read(on: twin, select: select, check: check)
            }
        }
    }

    /// The ranges from event 1 through `head`, `size` events each; the first also takes every row
    /// before event 1 and every row whose seq is null (`after` nil: no lower bound).
    static func ranges(through head: Int64, size: Int64) -> [(after: Int64?, through: Int64)] {
        guard head > 0 else { return [] }
        return stride(from: Int64(0), to: head, by: Int(size)).map { start in
            (after: start == 0 ? nil : start, through: start < head - size ? start + size : head)
        }
    }

    private func read(on twin: AuditStore, select: String, check: ChainRowCheck) {
        while let index = take() {
            let range = ranges[index]
            let result = Result {
                try twin.read { sql -> ChainRun in
                    if let after = range.after {
                        return try ChainRun.walk(sql, [(select + " WHERE seq > ? AND seq <= ? ORDER BY seq", [.int(after), .int(range.through)])], check)
                    }
                    // Null sorts first, as in a walk of the whole log (asked apart: an OR would cost the
                    // key's range its use of the table's order).
                    return try ChainRun.walk(sql, [(select + " WHERE seq IS NULL", []), (select + " WHERE seq <= ? ORDER BY seq", [.int(range.through)])], check)
                }
            }
            lock.withLock { results[index] = result }
            ready[index].signal()
        }
    }

    private func take() -> Int? {
        lock.withLock {
            guard !stopped, next < ranges.count else { return nil }
            defer { next += 1 }
            return next
        }
    }

    /// The run of range `index`, once it is read (it must have been started: call in order, and not
    /// past a `stop()`); rethrows its reading's error.
    func run(_ index: Int) throws -> ChainRun {
        ready[index].wait()
        return try lock.withLock { results[index]! }.get()
    }

    /// Starts no further range; those being read finish on their own.
    func stop() {
        lock.withLock { stopped = true }
    }
}
