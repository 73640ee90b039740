import Foundation

/// Reads the audit log in ranges of sequence numbers on several read-only connections at once
/// (`AuditStore.readOnlyTwin`), each range's rows checked and walked as one `ChainRun` by the thread
/// that read it, so reading, hashing and parsing use every core; `run(_:)` hands the runs out in chain
/// order. Ranges are handed to the readers in order too, and none is started once `stop()` is called.
final class ChainRangeReader: @unchecked Sendable {
    /// Each range is the events after `after` through `through`.
    private let ranges: [(after: Int64, through: Int64)]
    private var results: [Result<ChainRun, any Error>?]
    private let ready: [DispatchSemaphore]
    private let lock = NSLock()
    private var next = 0
    private var stopped = false

    init(twins: [AuditStore], ranges: [(after: Int64, through: Int64)], select: String, check: ChainRowCheck) {
        self.ranges = ranges
        results = Array(repeating: nil, count: ranges.count)
        ready = ranges.map { _ in DispatchSemaphore(value: 0) }
        for twin in twins {
            DispatchQueue.global(qos: .userInitiated).async {
                self.read(on: twin, select: select, check: check)
            }
        }
    }

    /// The ranges from event 1 through `head`, `size` events each; the first also takes any row before
    /// event 1.
    static func ranges(through head: Int64, size: Int64) -> [(after: Int64, through: Int64)] {
        guard head > 0 else { return [] }
        return stride(from: Int64(0), to: head, by: Int(size)).map { start in
            (after: start == 0 ? Int64.min : start, through: min(head, start + size))
        }
    }

    private func read(on twin: AuditStore, select: String, check: ChainRowCheck) {
        while let index = take() {
            let range = ranges[index]
            let result = Result {
                try twin.read { sql -> ChainRun in
                    var run = ChainRun(anchorSeq: check.anchor?.seq)
                    let query = select + " WHERE seq > ? AND seq <= ? ORDER BY seq"
                    let bounds: [SQLValue] = [.int(range.after), .int(range.through)]
                    if let sqlite = sql as? SQLiteConnection {
                        // SQLite's rows are read in place, no string made per column.
                        try sqlite.eachView(query, bounds) { row in
                            if run.problem == nil { run.add(row, local: check.problem(row)) }
                        }
                    } else {
                        try sql.each(query, bounds) { row in
                            if run.problem == nil { run.add(row, local: check.problem(row)) }
                        }
                    }
                    return run
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
