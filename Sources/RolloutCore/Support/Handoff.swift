import Foundation

/// Values passed from one producing thread to one consuming thread through a short queue: the producer
/// waits while `capacity` values are unread, the consumer while none is. Either side can end it: the
/// producer with `finish` (its error, if any, reaches the consumer after the values before it), the
/// consumer with `cancel` (the producer's next `put` returns false, so it stops reading).
public final class Handoff<Value>: @unchecked Sendable {
    private let capacity: Int
    /// At most `capacity` values, oldest first (read values are removed, so the queue holds no more).
    private var values: [Value] = []
    private var finished = false
    private var failure: (any Error)?
    private var cancelled = false
    private let condition = NSCondition()

    public init(capacity: Int = 4) {
        precondition(capacity > 0, "a handoff holds at least one value")
        self.capacity = capacity
    }

    /// Queues `value`, waiting for room; false when the consumer has cancelled (the value is dropped).
    public func put(_ value: Value) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !cancelled && values.count >= capacity { condition.wait() }
        guard !cancelled else { return false }
        values.append(value)
        condition.broadcast()
        return true
    }

    /// No more values: the consumer reads what is queued, then gets nil (or `error`, thrown).
    public func finish(throwing error: (any Error)? = nil) {
        condition.lock()
        defer { condition.unlock() }
        finished = true
        failure = error
        condition.broadcast()
    }

    /// The consumer stops: queued values are dropped, and `put` returns false from now on.
    public func cancel() {
        condition.lock()
        defer { condition.unlock() }
        cancelled = true
        values.removeAll()
        condition.broadcast()
    }

    /// The next value, waiting for one; nil once the producer has finished and all were read. Rethrows
    /// the producer's error after the values queued before it.
    public func next() throws -> Value? {
        condition.lock()
        defer { condition.unlock() }
        while values.isEmpty && !finished && !cancelled { condition.wait() }
        if !values.isEmpty {
            let value = values.removeFirst()
            condition.broadcast()
            return value
        }
        if let failure { throw failure }
        return nil
    }
}

extension Handoff {
    /// Runs `produce` on another thread while this one takes each value it hands over, in order, with
    /// `consume`: at most `capacity` values wait between them. When `consume` throws, the producer's
    /// next `put` returns false and it is waited for; the producer's error reaches this thread after
    /// the values before it.
    public static func pipe(capacity: Int = 4, produce: @escaping @Sendable (_ put: (Value) -> Bool) throws -> Void,
                            consume: (Value) throws -> Void) throws {
        let handoff = Handoff<Value>(capacity: capacity)
        let producing = Concurrently {
            do {
                try produce { handoff.put($0) }
                handoff.finish()
            } catch {
                handoff.finish(throwing: error)
            }
        }
        defer {
            handoff.cancel()
            _ = try? producing.value()
        }
        while let value = try handoff.next() { try consume(value) }
    }
}

