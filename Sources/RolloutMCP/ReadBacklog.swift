import Foundation

/// The bytes of lines a reader thread has handed on and that are not yet handled. The reader waits
/// while more would exceed the limit, so a peer that writes faster than its messages are handled is
/// held back by its own pipe instead of growing the reader's memory; a line larger than the limit
/// waits until nothing else is held.
final class ReadBacklog: @unchecked Sendable {
    let limit: Int
    private let condition = NSCondition()
    private var held = 0

    init(limit: Int) {
        self.limit = limit
    }

    /// What holding a line costs beyond its bytes (the message made of it, its place in the queue): a
    /// stream of one-byte lines is held back long before its bytes alone would be.
    static let perLine = 256

    /// The cost of holding a line of `count` bytes.
    static func cost(ofLine count: Int) -> Int { count + perLine }

    /// Blocks the calling thread until `bytes` more can be held, then holds them.
    func admit(_ bytes: Int) {
        condition.lock()
        while held > 0 && held + bytes > limit { condition.wait() }
        held += bytes
        condition.unlock()
    }

    /// Lets go of `bytes` held by `admit`.
    func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        condition.lock()
        held -= bytes
        condition.broadcast()
        condition.unlock()
    }

    /// The bytes held now.
    var current: Int {
        condition.lock()
        defer { condition.unlock() }
        return held
    }
}
