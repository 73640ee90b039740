import Foundation

/// Where "now" comes from. The guard, the scorer and the gates take one, so that tests drive time
/// and every run is reproducible.
public protocol TimeSource: Sendable {
    func now() -> Date
}

/// The machine's clock.
public struct SystemTime: TimeSource {
    public init() {}
    public func now() -> Date { Date() }
}

/// A clock that tests move by hand; safe to share between threads.
public final class ManualTime: TimeSource, @unchecked Sendable {
    private var current: Date
    private let lock = NSLock()

    public init(_ start: Date) {
        current = start
    }

    public func now() -> Date {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    public func advance(by seconds: TimeInterval) {
        lock.lock()
        current += seconds
        lock.unlock()
    }

    public func set(_ date: Date) {
        lock.lock()
        current = date
        lock.unlock()
    }
}
