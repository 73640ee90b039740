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
        var runs = 0
        await #expect(throws: GuardError.self) {
            try await desk.writing { runs += 1; throw GuardError.noSuchApproval(7) }
        }
        #expect(try await desk.writing { runs += 1; return done }.code == .executed, "a missing approval does not halt the desk")

        await #expect(throws: GuardError.self) {
            try await desk.writing {
                runs += 1
                throw GuardError.outcomeNotRecorded(tool: "items.create", intentSeq: 3, upstream: "it answered that it did the write", error: "database is locked")
            }
        }
        #expect(runs == 3)
        do {
            _ = try await desk.writing { runs += 1; return done }
            Issue.record("a write ran after the halt")
        } catch let error as GuardError {
            guard case .halted(let reason) = error else { Issue.record("\(error)"); return }
            #expect(reason.contains("items.create WAS forwarded"), "\(reason)")
        }
        #expect(runs == 3, "nothing ran after the halt")
    }
}
