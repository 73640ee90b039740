import Foundation

/// Runs async work from synchronous code (the fuzz target protocol is synchronous) and waits for it.
/// Must not be called from a Swift concurrency thread: it blocks the caller until the work is done.
public func blockingAwait<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) throws -> T {
    let semaphore = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: Result<T, Error>?
    Task.detached {
        do { result = .success(try await operation()) } catch { result = .failure(error) }
        semaphore.signal()
    }
    semaphore.wait()
    return try result!.get()
}
