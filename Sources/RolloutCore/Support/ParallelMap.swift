import Dispatch

/// `map` over an array on several threads, for pure per-element work (chain verification's row
/// checks, the rate detector's series): contiguous slices, one per worker, results in input order.
public enum ParallelMap {
    /// With fewer than `minimumCount` items, or one worker, the map runs on the calling thread: below
    /// it the threads cost more than the work.
    public static func map<T: Sendable, R: Sendable>(_ items: [T], workers: Int, minimumCount: Int = 256, _ transform: @Sendable (T) -> R) -> [R] {
        let count = items.count
        guard workers > 1, count >= max(minimumCount, 2) else { return items.map(transform) }
        let output = UnsafeMutablePointer<R?>.allocate(capacity: count)
        output.initialize(repeating: nil, count: count)
        defer {
            output.deinitialize(count: count)
            output.deallocate()
        }
        let slots = Slots(pointer: output)
        let per = (count + workers - 1) / workers
        items.withUnsafeBufferPointer { input in
            let source = Source(pointer: input)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let start = worker * per
                let end = min(count, start + per)
                guard start < end else { return }
                for index in start..<end { slots.pointer[index] = transform(source.pointer[index]) }
            }
        }
        return (0..<count).map { output[$0]! }
    }

    /// Each worker writes only its own slice of the output.
    private struct Slots<R>: @unchecked Sendable { let pointer: UnsafeMutablePointer<R?> }
    /// The input, read by every worker, written by none.
    private struct Source<T>: @unchecked Sendable { let pointer: UnsafeBufferPointer<T> }
}
