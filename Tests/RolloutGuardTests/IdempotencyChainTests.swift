import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

@testable import RolloutGuard
@testable import RolloutStore

/// The idempotency ledger is a table nobody chains: a key whose row was deleted or re-keyed by hand
/// looked free, and a retry of a write already done ran again (adversarial review 11, f3). The guard
/// now asks the chain about a key its ledger does not know.
@Suite("Idempotency: a key the ledger lost is free only when the chain says so")
struct IdempotencyChainTests {
    static let start = Timestamp.parse("2026-11-02T09:00:00Z")!

    static func event(_ decision: DecisionCode, details: [String: JSONValue] = [:]) -> AuditEvent {
        AuditEvent(ts: start, tenant: "acme", actor: "agent-1", tool: "items.create", idempotencyKey: "k-1", decision: decision.rawValue,
                   backend: "upstream:tiny", details: details)
    }

    struct ChainCase: Sendable, CustomTestStringConvertible {
        var name: String
        var events: [AuditEvent?]
        /// Which event holds the key (an index into `events`), or nil when it is free.
        var holder: Int?
        var testDescription: String { name }
    }

    static let notSent: [String: JSONValue] = ["in_doubt": false]
    static let chainCases: [ChainCase] = [
        ChainCase(name: "executed", events: [event(.executed)], holder: 0),
        ChainCase(name: "forwarded and done", events: [event(.intent), event(.executed)], holder: 1),
        ChainCase(name: "forwarded, the outcome lost (the guard killed)", events: [event(.intent)], holder: 0),
        ChainCase(name: "forwarded, no answer in time", events: [event(.intent), event(.inDoubt)], holder: 1),
        ChainCase(name: "the upstream crashed during the call", events: [event(.intent), event(.backendError, details: ["in_doubt": true])], holder: 1),
        ChainCase(name: "the upstream refused", events: [event(.intent), event(.upstreamRefused)], holder: 1),
        ChainCase(name: "never reached the upstream: released", events: [event(.intent), event(.backendError, details: notSent)], holder: nil),
        ChainCase(name: "released, then run again", events: [event(.intent), event(.backendError, details: notSent), event(.intent), event(.executed)], holder: 3),
        ChainCase(name: "released twice", events: [event(.intent), event(.backendError, details: notSent), event(.reasonRequired), event(.intent),
                                                   event(.backendError, details: notSent)], holder: nil),
        ChainCase(name: "a second not-sent error after a release", events: [event(.intent), event(.backendError, details: notSent),
                                                                          event(.backendError, details: notSent)], holder: nil),
        ChainCase(name: "another guard's in-doubt answer while the write was at its upstream, then released",
                  events: [event(.intent), event(.inDoubt, details: ["in_doubt_of": 1]), event(.backendError, details: notSent)], holder: nil),
        ChainCase(name: "an in-doubt answer after the outcome", events: [event(.intent), event(.inDoubt), event(.inDoubt, details: ["in_doubt_of": 2])], holder: 1),
        ChainCase(name: "a not-sent error alone", events: [event(.backendError, details: notSent)], holder: nil),
        ChainCase(name: "a release after a row that does not hold", events: [nil, event(.backendError, details: notSent)], holder: 0),
        ChainCase(name: "an approved write that never left keeps its queued key",
                  events: [event(.pendingApproval), event(.intent), event(.backendError, details: ["in_doubt": false, "approval_status": "pending"])], holder: 1),
        ChainCase(name: "a not-sent error after a finished write releases nothing", events: [event(.executed), event(.backendError, details: notSent)], holder: 0),
        ChainCase(name: "the built-in domain's error (rolled back)", events: [event(.backendError)], holder: nil),
        ChainCase(name: "queued, then denied", events: [event(.pendingApproval), event(.approvalDenied)], holder: 1),
        ChainCase(name: "refused by the policy, then run", events: [event(.reasonRequired), event(.executed)], holder: 1),
        ChainCase(name: "refused by the policy only", events: [event(.reasonRequired), event(.capExceeded)], holder: nil),
        ChainCase(name: "a dry run and a shadowed call", events: [event(.dryRun), event(.shadowed)], holder: nil),
        ChainCase(name: "an imported line", events: [event(.executed, details: ["imported": "events.jsonl"])], holder: nil),
        ChainCase(name: "a row that does not hold", events: [event(.reasonRequired), nil], holder: 1),
        ChainCase(name: "an unknown decision (a newer rollout's)",
                  events: [AuditEvent(ts: start, tenant: "acme", actor: "agent-1", tool: "items.create", decision: "queued_elsewhere")], holder: 0),
    ]

    @Test("the chain's events say whether the key is held, and by which", arguments: chainCases)
    func holder(_ c: ChainCase) {
        let events = c.events.enumerated().map { (seq: Int64($0.offset + 1), event: $0.element) }
        #expect(IdempotencyChain.holder(newestFirst: events.reversed()) == c.holder.map { Int64($0 + 1) })
        // The store leaves out what never holds a key: the walk says the same without those events.
        let skipped = Set(IdempotencyChain.neverHolding.map(\.rawValue))
        let kept = events.filter { $0.event.map { !skipped.contains($0.decision) } ?? true }
        #expect(IdempotencyChain.holder(newestFirst: kept.reversed()) == c.holder.map { Int64($0 + 1) })
    }

    struct StoreDown: Error {}

    @Test("a key's events are read one per step of the walk; a read that fails ends the walk holding the key (for a caller that looks no further) and is kept to be thrown",
          arguments: [nil, 0, 1, 2] as [Int?])
    func failedRead(failingAt: Int?) {
        let executed = AuditEvent(ts: Self.start, tenant: "acme", actor: "agent-1", tool: "items.create", decision: DecisionCode.executed.rawValue)
        let refused = AuditEvent(ts: Self.start, tenant: "acme", actor: "agent-1", tool: "items.create", decision: DecisionCode.reasonRequired.rawValue)
        // Newest first: two events that never hold the key, then the executed write that holds it.
        let stored: [Int64: AuditEvent] = [3: refused, 2: refused, 1: executed]
        var reads: [Int64] = []
        let events = KeyEvents(seqs: [3, 2, 1]) { seq in
            reads.append(seq)
            if let failingAt, reads.count == failingAt + 1 { throw StoreDown() }
            return stored[seq]
        }
        let holder = IdempotencyChain.holder(newestFirst: events)
        if let failingAt {
            #expect(events.failure is StoreDown)
            // Nothing is read after the failure, and the walk takes the key as held there: never free.
            #expect(reads == Array([3, 2, 1].prefix(failingAt + 1)))
            #expect(holder == [3, 2, 1][failingAt])
        } else {
            #expect(events.failure == nil)
            #expect(reads == [3, 2, 1])
            #expect(holder == 1)
        }
    }

    /// An upstream that answers each call with the next of its outcomes, and counts the calls.
    final class ScriptedUpstream: Upstream, @unchecked Sendable {
        let backend = "upstream:tiny"
        let observer: (any StateReader)? = nil
        private let lock = NSLock()
        private var outcomes: [UpstreamOutcome]
        private(set) var calls = 0
        init(_ outcomes: [UpstreamOutcome]) { self.outcomes = outcomes }
        func call(_ call: ToolCall) async -> UpstreamOutcome {
            lock.withLock {
                calls += 1
                return outcomes.count > 1 ? outcomes.removeFirst() : outcomes[0]
            }
        }
    }

    struct LedgerCase: Sendable, CustomTestStringConvertible {
        var first: UpstreamOutcome
        var firstCode: DecisionCode
        /// SQL run on the store between the call and its retry.
        var edit: String
        /// The retry's decision, and the calls the upstream got in all.
        var retryCode: DecisionCode
        var upstreamCalls: Int
        var testDescription: String { "\(firstCode.rawValue), then \(edit)" }
    }

    static let done = UpstreamOutcome.accepted(result: ["content": [["type": "text", "text": #"{"id": 1}"#]]])
    static let deleteAll = "DELETE FROM idempotency"
    static let ledgerCases: [LedgerCase] = [
        LedgerCase(first: done, firstCode: .executed, edit: deleteAll, retryCode: .inDoubt, upstreamCalls: 1),
        LedgerCase(first: done, firstCode: .executed, edit: "UPDATE idempotency SET key = 'k-other'", retryCode: .inDoubt, upstreamCalls: 1),
        LedgerCase(first: done, firstCode: .executed, edit: "UPDATE idempotency SET tenant = 'globex'", retryCode: .inDoubt, upstreamCalls: 1),
        LedgerCase(first: .failed(.timedOut(seconds: 30, detail: "")), firstCode: .inDoubt, edit: deleteAll, retryCode: .inDoubt, upstreamCalls: 1),
        LedgerCase(first: .refused(code: "-32602", message: "bad title", result: ["isError": true]), firstCode: .upstreamRefused, edit: deleteAll,
                   retryCode: .inDoubt, upstreamCalls: 1),
        // Nothing left: the key was released, and the chain agrees that a retry may run.
        LedgerCase(first: .failed(.unavailable("not started")), firstCode: .backendError, edit: deleteAll, retryCode: .executed, upstreamCalls: 2),
        // The ledger untouched: the answers it gave before.
        LedgerCase(first: done, firstCode: .executed, edit: "SELECT 1", retryCode: .replayed, upstreamCalls: 1),
    ]

    @Test("a retry after the ledger was edited never reaches the upstream again, unless the chain shows the key released",
          arguments: TestStores.kinds, ledgerCases)
    func retryAfterEdit(_ kind: StoreKind, _ c: LedgerCase) async throws {
        let path = try TestStores.location(kind)
        let policy = try Policy.parse(UncheckedPlacesTests.policyText)
        let upstream = ScriptedUpstream([c.first, Self.done])
        let call = ToolCall(tool: "items.create", arguments: ["data": ["title": "stock"], "reason": "stock arrived from the supplier", "idempotency_key": "k-1"])
        let principal = Principal(tenant: "acme", actor: "agent-1")
        do {
            let guard_ = Guard(policy: policy, stages: FixedStages(.broad), environment: try StoreEnvironment(store: try AuditStore(path: path), policy: policy),
                               upstream: upstream)
            #expect(try await guard_.decide(call, principal: principal).code == c.firstCode)
        }
        // As someone with write access to the database would, outside any decision of the guard.
        try AuditStore(path: path).write { (tx: inout StoreTransaction) throws in try tx.sql.execute(c.edit, []) }
        let store = try AuditStore(path: path)
        let guard_ = Guard(policy: policy, stages: FixedStages(.broad), environment: try StoreEnvironment(store: store, policy: policy), upstream: upstream)
        let retry = try await guard_.decide(call, principal: principal)
        #expect(retry.code == c.retryCode, "\(retry.message)")
        #expect(upstream.calls == c.upstreamCalls)
        if c.retryCode == .inDoubt && c.firstCode == .executed && c.edit != "SELECT 1" {
            #expect(retry.message.contains("ledger has no entry"), "\(retry.message)")
            let last = try #require(try store.read { sql in try AuditStore.event(seq: retry.auditSeq, in: sql) })
            #expect(last.details["ledger_missing"] == true && last.idempotencyKey == "k-1")
        }
        #expect(try store.verify().ok)
    }
}

extension IdempotencyChainTests {
    /// Edits of the key index that leave every row as it was: its text relabelled, or its root moved onto an
    /// empty index of a table someone added (review 19, F2), each with the ledger row deleted.
    static let indexEdits: [(edit: String, says: String)] = [
        ("""
         PRAGMA writable_schema = ON;
         UPDATE sqlite_master SET sql = 'CREATE INDEX audit_events_idempotency ON audit_events(idempotency_key, tenant, decision) WHERE idempotency_key IS NOT NULL'
         WHERE name = 'audit_events_idempotency';
         PRAGMA writable_schema = OFF;
         """, #"index audit_events_idempotency is not as rollout made it (it reads "CREATE INDEX audit_events_idempotency ON audit_events(idempotency_key, tenant, decision) WHERE idempotency_key IS NOT NULL")"#),
        ("""
         CREATE TABLE scratch (a, b, c);
         CREATE INDEX scratch_abc ON scratch(a, b, c);
         PRAGMA writable_schema = ON;
         UPDATE sqlite_master SET rootpage = (SELECT rootpage FROM sqlite_master WHERE name = 'scratch_abc') WHERE name = 'audit_events_idempotency';
         PRAGMA writable_schema = OFF;
         """, "index audit_events_idempotency does not find event 2 under its key: its root or its pages were changed by hand"),
    ]

    @Test("a retry after the ledger row was deleted and the key's index edited (writable_schema) is not run: the writer refuses the store (reviews 18, A and 19, F2)",
          arguments: 0..<indexEdits.count)
    func retryAfterIndexEdited(_ index: Int) async throws {
        let (edit, says) = Self.indexEdits[index]
        let path = try TestStores.location(.sqlite)
        let policy = try Policy.parse(UncheckedPlacesTests.policyText)
        let upstream = ScriptedUpstream([Self.done])
        let call = ToolCall(tool: "items.create", arguments: ["data": ["title": "stock"], "reason": "stock arrived from the supplier", "idempotency_key": "k-1"])
        let principal = Principal(tenant: "acme", actor: "agent-1")
        do {
            let guard_ = Guard(policy: policy, stages: FixedStages(.broad), environment: try StoreEnvironment(store: try AuditStore(path: path), policy: policy),
                               upstream: upstream)
            #expect(try await guard_.decide(call, principal: principal).code == .executed)
        }
        let recorded = try AuditStore(path: path).head()
        // Before the fix the key's lookup read the edited index, found none of its events, and the retry ran again.
        try TestStores.edit(path, "DELETE FROM idempotency;\n" + edit)
        let store = try AuditStore(path: path)
        let guard_ = Guard(policy: policy, stages: FixedStages(.broad), environment: try StoreEnvironment(store: store, policy: policy), upstream: upstream)
        await #expect {
            _ = try await guard_.decide(call, principal: principal)
        } throws: { error in
            guard case StoreError.schemaEdited(_, let differences) = error else { return false }
            return differences == [says]
        }
        #expect(upstream.calls == 1)
        #expect(try store.head() == recorded, "nothing was recorded in a store whose schema was changed")
        #expect(try store.verify().firstBreak?.problem == .schemaEdited)
    }
}
