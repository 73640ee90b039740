import Foundation
import RolloutCore
import RolloutStore
import RolloutTestSupport
import Testing

@testable import RolloutGuard

/// The kill switch across hosts: pauses recorded in the audit store turn a tenant off for every guard
/// that writes the store, whatever its own tenants.yaml says; an unreadable store turns it off too.
@Suite("Pauses shared through the audit store")
struct SharedPausesTests {
    final class Answer: @unchecked Sendable {
        var value: Result<SharedPause?, Error> = .success(nil)
        var reads = 0
    }

    struct Unreachable: Error, CustomStringConvertible {
        var description: String { "connection refused" }
    }

    @Test("a pause in the store turns the tenant off once the last read is maxAge old; a store that cannot be read turns it off")
    func readsAndFailsClosed() {
        let clock = ManualTime(Timestamp.parse("2026-11-29T10:00:00Z")!)
        let answer = Answer()
        let source = SharedPauses(FixedStages(.soft), maxAge: 1, clock: clock) { _ in
            answer.reads += 1
            return try answer.value.get()
        }
        #expect(source.stage(tenant: "acme", tool: "orders.update") == .soft && source.offReason(tenant: "acme") == nil)
        answer.value = .success(SharedPause(tenant: "acme", paused: true, by: "maria.lopez", automated: false, reason: "agent looping",
                                            at: clock.now(), auditSeq: 7))
        clock.advance(by: 0.5)
        #expect(source.stage(tenant: "acme", tool: "orders.update") == .soft, "read again only once a second has passed")
        clock.advance(by: 0.5)
        #expect(source.stage(tenant: "acme", tool: "orders.update") == .off)
        let why = source.offReason(tenant: "acme") ?? ""
        #expect(why.contains("paused by maria.lopez") && why.contains("agent looping") && why.contains("rollout resume --tenant acme"), "\(why)")
        answer.value = .success(SharedPause(tenant: "acme", paused: false, by: "dev.patel", automated: false, reason: nil, at: clock.now()))
        clock.advance(by: 1)
        #expect(source.stage(tenant: "acme", tool: "orders.update") == .soft)
        answer.value = .failure(Unreachable())
        clock.advance(by: 1)
        #expect(source.stage(tenant: "acme", tool: "orders.update") == .off)
        #expect(source.offReason(tenant: "acme")?.contains("could not be read (connection refused)") == true)
        // Each tenant is read on its own; a clock that went back reads again.
        answer.value = .success(nil)
        clock.advance(by: -5)
        #expect(source.stage(tenant: "acme", tool: "orders.update") == .soft)
        let reads = answer.reads
        _ = source.stage(tenant: "globex", tool: "orders.update")
        #expect(answer.reads == reads + 1)
    }

    @Test("the file's own reason comes first; the store's pause turns off even a tool the file has at broad")
    func overFile() throws {
        let paused = SharedPause(tenant: "acme", paused: true, by: "maria.lopez", automated: false, reason: nil, at: Date())
        let broad = SharedPauses(FixedStages(.broad), maxAge: 0) { _ in paused }
        #expect(broad.stage(tenant: "acme", tool: "refunds.issue") == .off)
        struct Unknown: StageSource {
            func stage(tenant: String, tool: String) -> Stage { .off }
            func offReason(tenant: String) -> String? { "tenant \(tenant) is not in tenants.yaml" }
        }
        #expect(SharedPauses(Unknown(), maxAge: 0) { _ in paused }.offReason(tenant: "acme") == "tenant acme is not in tenants.yaml")
    }

    @Test("a guard that reads the store's pauses at every check decides, also inside its decision's transaction, and obeys a pause",
          .timeLimit(.minutes(10)))
    func insideTheTransaction() async throws {
        let policy = try RolloutFolder(directory: TestPaths.exampleFolder).loadPolicy()
        let store = try TestStores.temporarySQLite()
        let environment = try DemoEnvironment(store: store, policy: policy, seedTenants: ["acme"], rowsPerTenant: 10)
        // maxAge 0: every check reads, the second one inside the write transaction (a read on the store's own
        // connection there waited for itself: the guard hung).
        let guard_ = Guard(policy: policy, stages: SharedPauses(FixedStages(.broad), store: store, maxAge: 0), environment: environment)
        let principal = Principal(tenant: "acme", actor: "agent-1")
        let first = try await guard_.decide(ToolCall(tool: "orders.update", arguments: orderUpdate(key: "k-1")), principal: principal)
        #expect(first.code == .executed, "\(first.message)")
        let at = Date()
        try store.commitStageChange(tenant: "acme", expectedVersion: 0,
                                    event: AuditEvent(ts: at, tenant: "acme", actor: "maria.lopez", tool: "rollout.stage", operation: "pause",
                                                      targets: ["*"], reason: "agent looping", decision: "stage_pause"),
                                    at: at, pause: SharedPause(tenant: "acme", paused: true, by: "maria.lopez", automated: false, reason: "agent looping", at: at)) {}
        let second = try await guard_.decide(ToolCall(tool: "orders.update", arguments: orderUpdate(key: "k-2")), principal: principal)
        #expect(second.code == .toolDisabled && second.message.contains("paused by maria.lopez"), "\(second.message)")
    }

    @Test("the store keeps each tenant's last pause or resume, written with its stage event", arguments: TestStores.kinds)
    func stored(kind: StoreKind) throws {
        let store = try TestStores.make(kind)
        #expect(try store.sharedPause(tenant: "acme") == nil)
        let at = Timestamp.parse("2026-11-29T10:00:00Z")!
        func change(_ paused: Bool, _ by: String, version: Int64) throws -> AuditEvent {
            let event = AuditEvent(ts: at, tenant: "acme", actor: by, tool: "rollout.stage", operation: paused ? "pause" : "resume", targets: ["*"],
                                   reason: "why", decision: paused ? "stage_pause" : "stage_resume")
            return try store.commitStageChange(tenant: "acme", expectedVersion: version, event: event, at: at,
                                               pause: SharedPause(tenant: "acme", paused: paused, by: by, automated: !paused, reason: "why", at: at)) {}
        }
        let first = try change(true, "maria.lopez", version: 0)
        #expect(try store.sharedPause(tenant: "acme")
                == SharedPause(tenant: "acme", paused: true, by: "maria.lopez", automated: false, reason: "why", at: at, auditSeq: first.seq))
        #expect(try store.sharedPauses().map(\.tenant) == ["acme"])
        // A tenant named in another Unicode form is the same tenant (as tenants.yaml and the guard take it).
        _ = try store.commitStageChange(tenant: "caf\u{E9}", expectedVersion: 0,
                                        event: AuditEvent(ts: at, tenant: "caf\u{E9}", actor: "maria.lopez", tool: "rollout.stage", operation: "pause",
                                                          targets: ["*"], decision: "stage_pause"),
                                        at: at, pause: SharedPause(tenant: "caf\u{E9}", paused: true, by: "maria.lopez", automated: false, reason: nil, at: at)) {}
        #expect(try store.sharedPause(tenant: "cafe\u{301}")?.paused == true)
        // A change that loses its race records no pause.
        #expect(throws: StageConflict.self) { try change(false, "ci-bot", version: 0) }
        #expect(try store.sharedPause(tenant: "acme")?.paused == true)
        let second = try change(false, "ci-bot", version: 1)
        #expect(try store.sharedPause(tenant: "acme")?.auditSeq == second.seq && store.sharedPauses().map(\.tenant) == ["caf\u{E9}"])
    }

    /// A change someone with write access to the store makes to the pause table (not chained), or to the
    /// chain's last resume, after the tenant's pause (and, with `resumed`, its resume).
    struct PauseEdit: Sendable, CustomTestStringConvertible {
        var name: String
        var resumed: Bool
        var edit: String
        var paused: Bool
        var testDescription: String { name }
    }

    static let pauseEdits: [PauseEdit] = [
        PauseEdit(name: "paused, nothing edited", resumed: false, edit: "SELECT 1", paused: true),
        PauseEdit(name: "paused, the pause row deleted", resumed: false, edit: "DELETE FROM tenant_pauses", paused: true),
        PauseEdit(name: "paused, the pause row set to resumed", resumed: false, edit: "UPDATE tenant_pauses SET paused = 0, audit_seq = 99", paused: true),
        PauseEdit(name: "resumed, nothing edited", resumed: true, edit: "SELECT 1", paused: false),
        PauseEdit(name: "resumed, the pause row deleted", resumed: true, edit: "DELETE FROM tenant_pauses", paused: false),
        PauseEdit(name: "resumed, the resume's body edited (it no longer holds)", resumed: true,
                  edit: "UPDATE audit_events SET body = replace(body, 'ci-bot', 'ci-bat') WHERE decision = 'stage_resume'", paused: true),
    ]

    @Test("the kill switch holds when the pause table is edited: the chain's last pause or resume of the tenant is read too (review 19)",
          arguments: TestStores.kinds, pauseEdits)
    func pauseTableEdited(kind: StoreKind, _ e: PauseEdit) throws {
        let path = try TestStores.location(kind)
        let store = try AuditStore(path: path)
        let at = Timestamp.parse("2026-11-29T10:00:00Z")!
        func change(_ paused: Bool, _ by: String, version: Int64) throws {
            let event = AuditEvent(ts: at, tenant: "acme", actor: by, tool: "rollout.stage", operation: paused ? "pause" : "resume", targets: ["*"],
                                   reason: "agent looping on refunds", decision: paused ? "stage_pause" : "stage_resume", details: ["automated": false])
            _ = try store.commitStageChange(tenant: "acme", expectedVersion: version, event: event, at: at,
                                            pause: SharedPause(tenant: "acme", paused: paused, by: by, automated: false, reason: "agent looping on refunds", at: at)) {}
        }
        try change(true, "maria.lopez", version: 0)
        if e.resumed { try change(false, "ci-bot", version: 1) }
        // As someone with write access to the database would, outside any command of rollout.
        try AuditStore(path: path).write { (tx: inout StoreTransaction) throws in try tx.sql.execute(e.edit, []) }

        let found = try AuditStore(path: path).sharedPause(tenant: "acme")
        #expect((found?.paused ?? false) == e.paused, "\(String(describing: found))")
        #expect(try store.sharedPauses().map(\.tenant) == (e.paused ? ["acme"] : []))
        if e.paused, e.edit != "SELECT 1" {
            #expect(found?.reason?.contains("changed outside rollout") == true, "\(found?.reason ?? "")")
        }
        // A guard over the store obeys it.
        let pauses = SharedPauses(FixedStages(.broad), store: try AuditStore(path: path))
        #expect((pauses.stage(tenant: "acme", tool: "refunds.issue") == .off) == e.paused)
    }

    @Test("an imported stage_resume resumes nothing: the chain's last pause rollout wrote holds, past more imported lines than one look-up reads",
          arguments: TestStores.kinds, [1, 40])
    func importedResume(kind: StoreKind, lines: Int) throws {
        let path = try TestStores.location(kind)
        let store = try AuditStore(path: path)
        let at = Timestamp.parse("2026-11-29T10:00:00Z")!
        let event = AuditEvent(ts: at, tenant: "acme", actor: "maria.lopez", tool: "rollout.stage", operation: "pause", targets: ["*"],
                               reason: "agent looping on refunds", decision: "stage_pause", details: ["automated": false])
        _ = try store.commitStageChange(tenant: "acme", expectedVersion: 0, event: event, at: at,
                                        pause: SharedPause(tenant: "acme", paused: true, by: "maria.lopez", automated: false, reason: "looping", at: at)) {}
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("resume-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let line = #"{"ts": "2026-11-29T11:00:00Z", "tenant": "acme", "actor": "dev.patel", "tool": "rollout.stage", "operation": "resume", "decision": "stage_resume", "reason": "all clear"}"#
        try (Array(repeating: line, count: lines).joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try store.importFile(file).imported == lines)
        // The pause table set to resumed by hand too: only the chain's record then says paused.
        try store.write { (tx: inout StoreTransaction) throws in try tx.sql.execute("UPDATE tenant_pauses SET paused = 0", []) }
        let found = try AuditStore(path: path).sharedPause(tenant: "acme")
        #expect(found?.paused == true && found?.by == "maria.lopez", "\(String(describing: found))")
        #expect(try store.sharedPauses().map(\.tenant) == ["acme"])
    }

    @Test("a signed chain read without its key (rollout status, flags, lint): a resume whose row holds but for its signature lifts the pause",
          arguments: TestStores.kinds)
    func resumeReadWithoutTheKey(kind: StoreKind) throws {
        let path = try TestStores.location(kind)
        let key = ChainKey("correct horse battery staple")
        let store = try AuditStore(path: path, chainKey: key)
        let at = Timestamp.parse("2026-11-29T10:00:00Z")!
        for (version, paused) in [(Int64(0), true), (1, false)] {
            let event = AuditEvent(ts: at, tenant: "acme", actor: "maria.lopez", tool: "rollout.stage", operation: paused ? "pause" : "resume",
                                   targets: ["*"], reason: "checked", decision: paused ? "stage_pause" : "stage_resume", details: ["automated": false])
            _ = try store.commitStageChange(tenant: "acme", expectedVersion: version, event: event, at: at,
                                            pause: SharedPause(tenant: "acme", paused: paused, by: "maria.lopez", automated: false, reason: "checked", at: at)) {}
        }
        let reader = try AuditStore(path: path, chainKey: nil)
        #expect(try reader.sharedPause(tenant: "acme")?.paused == false)
        #expect(try reader.sharedPauses().isEmpty)
        // With the pause row deleted too, the chain's resume still holds for such a reader.
        try store.write { (tx: inout StoreTransaction) throws in try tx.sql.execute("DELETE FROM tenant_pauses", []) }
        #expect(try reader.sharedPause(tenant: "acme") == nil)
    }
}
