import Foundation
import Testing

@testable import RolloutMCP

/// The guard's reader holds back while the lines it handed on are not handled (review 26, F1).
@Suite("ReadBacklog: a reader waits while what it handed on is unhandled")
struct ReadBacklogTests {
    @Test("a line that would pass the limit waits until earlier ones are let go; one larger than the limit waits for an empty backlog")
    func waitsForRoom() async throws {
        let backlog = ReadBacklog(limit: 16)
        backlog.admit(10)
        backlog.admit(6)
        #expect(backlog.current == 16)
        let admitted = Atomic(false)
        let reader = Thread {
            backlog.admit(30)   // larger than the limit: waits for nothing to be held
            admitted.set(true)
        }
        reader.start()
        try await Task.sleep(nanoseconds: 200_000_000)
        #expect(!admitted.get(), "admitted while 16 bytes were held")
        backlog.release(10)
        try await Task.sleep(nanoseconds: 200_000_000)
        #expect(!admitted.get(), "admitted while 6 bytes were held")
        backlog.release(6)
        // However slow the machine, it gets in once the backlog is empty.
        for _ in 0..<600 where !admitted.get() { try await Task.sleep(nanoseconds: 50_000_000) }
        #expect(admitted.get() && backlog.current == 30)
    }
}

/// A flag two threads read and write.
private final class Atomic: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Bool
    init(_ value: Bool) { self.value = value }
    func get() -> Bool { lock.withLock { value } }
    func set(_ new: Bool) { lock.withLock { value = new } }
}
