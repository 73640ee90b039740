import Foundation
import RolloutCore
import RolloutGuard
import RolloutStore
import RolloutTestSupport
import Testing

@testable import RolloutServe

/// serve runs a guard per decision, so a guard's halt (a write forwarded whose outcome could not be
/// recorded) held for that decision only, and the next approval ran: the desk now halts with it.
@Suite("serve's approval desk halts with its guards")
struct ApprovalDeskHaltTests {
    @Test("after a write whose outcome was not recorded, no approval or rollback runs; other errors do not halt it")
    func haltsAfterAnUnrecordedOutcome() async throws {
        let desk = ApprovalDesk(folder: RolloutFolder(directory: TestPaths.exampleFolder), store: try TestStores.temporarySQLite(), log: { _ in })
        let done = Decision(code: .executed, message: "ok", auditSeq: 1)
        let counter = Locked(0)
        @Sendable func run() { counter.withLock { $0 += 1 } }
        var runs: Int { counter.withLock { $0 } }
        await #expect(throws: GuardError.self) {
            try await desk.writing { run(); throw GuardError.noSuchApproval(7) }
        }
        #expect(try await desk.writing { run(); return done }.code == .executed, "a missing approval does not halt the desk")

        await #expect(throws: GuardError.self) {
            try await desk.writing {
                run()
                throw GuardError.outcomeNotRecorded(tool: "items.create", intentSeq: 3, upstream: "it answered that it did the write", error: "database is locked")
            }
        }
        #expect(runs == 3)
        do {
            _ = try await desk.writing { run(); return done }
            Issue.record("a write ran after the halt")
        } catch let error as GuardError {
            guard case .halted(let reason) = error else { Issue.record("\(error)"); return }
            #expect(reason.contains("items.create WAS forwarded"), "\(reason)")
        }
        #expect(runs == 3, "nothing ran after the halt")
    }

    @Test("two approvals pressed together take turns: the one behind a write whose outcome is lost is refused, not forwarded")
    func decisionsTakeTurns() async throws {
        let desk = ApprovalDesk(folder: RolloutFolder(directory: TestPaths.exampleFolder), store: try TestStores.temporarySQLite(), log: { _ in })
        let forwarded = Locked<[String]>([])
        let first = Task {
            try await desk.writing {
                forwarded.withLock { $0.append("first") }
                try await Task.sleep(nanoseconds: 300_000_000)
                throw GuardError.outcomeNotRecorded(tool: "refunds.issue", intentSeq: 4, upstream: "it answered", error: "disk full")
            }
        }
        // The second press comes while the first is at its upstream.
        while forwarded.withLock({ $0.isEmpty }) { try await Task.sleep(nanoseconds: 1_000_000) }
        let second = Task {
            try await desk.writing {
                forwarded.withLock { $0.append("second") }
                return Decision(code: .executed, message: "ok", auditSeq: 5)
            }
        }
        await #expect(throws: GuardError.self) { try await first.value }
        do {
            _ = try await second.value
            Issue.record("the second approval ran")
        } catch let error as GuardError {
            guard case .halted = error else { Issue.record("\(error)"); return }
        }
        #expect(forwarded.withLock { $0 } == ["first"])
    }
}

/// A value behind a lock, for closures the desk runs on other tasks.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<T>(_ body: (inout Value) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
