import Dispatch

/// A piece of work started on another thread now, whose result is taken later: the compliance report
/// verifies the chain and scores anomalies while it lists the calls. `value()` waits for the work and
/// returns its result or rethrows its error.
public final class Concurrently<T>: @unchecked Sendable {
    private var result: Result<T, any Error>?
    private let done = DispatchSemaphore(value: 0)

    public init(_ work: @escaping @Sendable () throws -> T) {
        DispatchQueue.global(qos: .userInitiated).async {
            self.result = Result { try work() }
            self.done.signal()
        }
    }

    /// The work's result, once it has finished.
    public func value() throws -> T {
        done.wait()
        done.signal()  // a second call returns at once
        return try result!.get()
    }
}
