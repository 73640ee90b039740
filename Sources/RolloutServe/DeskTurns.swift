import Foundation

/// The approval desk's decisions that may write to a backend, one at a time, and the halt they share.
/// serve runs a guard per decision: two approvals pressed together each checked the halt before either had
/// run, so the second was forwarded although the first had just lost its outcome. Taking turns, each
/// decision sees what every one before it learned.
actor DeskTurns {
    private(set) var haltReason: String?
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    /// Runs `body` once every decision that came before it has ended (it reads `haltReason` itself).
    func take<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        if busy {
            await withCheckedContinuation { waiting.append($0) }
        } else {
            busy = true
        }
        defer {
            if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
        }
        return try await body()
    }

    /// Halts the desk for good (the first reason stands).
    func halt(_ reason: String) {
        if haltReason == nil { haltReason = reason }
    }
}
