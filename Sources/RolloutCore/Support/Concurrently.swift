import Dispatch
import Foundation

/// A piece of work started on another thread now, whose result is taken later: the compliance report
/// verifies the chain and scores anomalies while it lists the calls. `value()` waits for the work and
/// returns its result or rethrows its error.
///
/// The work gets a thread of its own, not one of Dispatch's shared pool: the pool runs no more busy
/// threads than there are cores, so on 2 cores a third piece of work waited for one of the others to
/// end (the report's listing started only once scoring had, 2 s in). Each piece is long (a pass over
/// the log), so a thread's start is nothing beside it.
public final class Concurrently<T>: @unchecked Sendable {
    private var result: Result<T, any Error>?
    private let done = DispatchSemaphore(value: 0)

    public init(_ work: @escaping @Sendable () throws -> T) {
        let thread = Thread {
            self.result = Result { try work() }
            self.done.signal()
        }
        thread.qualityOfService = .userInitiated
        thread.start()
    }

    /// The work's result, once it has finished.
    public func value() throws -> T {
        done.wait()
        done.signal()  // a second call returns at once
        return try result!.get()
    }
}
