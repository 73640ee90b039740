import Foundation
import RolloutCore
import RolloutStore
import RolloutTestSupport
import Testing

@testable import RolloutGuard

/// A cap's count on the store comes from per-second and per-minute buckets plus the partial second
/// in `guard_calls`. It must equal counting every recorded call at or after the window's start, for
/// any start: on bucket edges, a millisecond either side, in the partial second, before 1970.
@Suite("Guard: cap counts from buckets equal counting every call")
struct CapCountTests {
    /// Seeded call times around `base`: bursts in one second, calls on bucket edges, actors mixed.
    static func calls(base: Int64, seed: UInt64) -> [(ms: Int64, actor: String)] {
        var random = SeededRandom(seed: seed)
        var calls: [(Int64, String)] = []
        for _ in 0..<400 {
            let ms = base + Int64.random(in: -200_000...200_000, using: &random)
            calls.append((ms, ["agent-1", "agent-2", "ä-agent"][Int.random(in: 0..<3, using: &random)]))
        }
        for edge in [base - base % 60000, base - base % 1000] {
            for offset in [-1, 0, 0, 1] as [Int64] { calls.append((edge + offset, "agent-1")) }
        }
        return calls
    }

    @Test("the count at every window start equals a brute-force count, per tenant and per actor, capped at its limit",
          arguments: TestStores.kinds, [Int64(1_795_856_246_636), -86_400_123])
    func bucketsCountExactly(kind: StoreKind, base: Int64) throws {
        let store = try TestStores.make(kind)
        // What the ledger stores for each time (milliseconds of the Date it is given).
        let calls = Self.calls(base: base, seed: UInt64(bitPattern: base)).map { (at: StoreGuardLedger.date($0.ms), actor: $0.actor) }
            .map { (at: $0.at, ms: StoreGuardLedger.millis($0.at), actor: $0.actor) }
        try store.write { tx in
            let ledger = StoreGuardLedger(tx)
            for (i, call) in calls.enumerated() {
                try ledger.recordCall(tenant: "acme", tool: "orders.update", actor: call.actor,
                                      at: call.at, auditSeq: Int64(i + 1))
            }
            // Another tenant and tool in the same buckets must not count.
            try ledger.recordCall(tenant: "globex", tool: "orders.update", actor: "agent-1", at: Date(timeIntervalSince1970: Double(base) / 1000), auditSeq: 9999)
            try ledger.recordCall(tenant: "acme", tool: "refunds.issue", actor: "agent-1", at: Date(timeIntervalSince1970: Double(base) / 1000), auditSeq: 9998)
        }
        var starts: [Int64] = [base - 1_000_000, base + 1_000_000]
        for call in calls.prefix(60) { starts += [call.ms - 1, call.ms, call.ms + 1] }
        for edge in stride(from: base - 240_000, through: base + 240_000, by: 30_000) {
            let minute = edge - ((edge % 60000) + 60000) % 60000
            starts += [minute - 1, minute, minute + 1, minute + 999, minute + 1000, minute + 1001]
        }
        try store.write { (tx: inout StoreTransaction) throws in
            let ledger = StoreGuardLedger(tx)
            for requested in starts {
                let since = StoreGuardLedger.date(requested), start = StoreGuardLedger.millis(since)
                let all = calls.filter { $0.ms >= start }.count
                #expect(try ledger.callCount(tenant: "acme", tool: "orders.update", actor: nil, since: since, upTo: 10_000) == all, "window from \(start)")
                for actor in ["agent-1", "ä-agent", "nobody"] {
                    let mine = calls.filter { $0.ms >= start && $0.actor == actor }.count
                    #expect(try ledger.callCount(tenant: "acme", tool: "orders.update", actor: actor, since: since, upTo: 10_000) == mine,
                            "window from \(start), actor \(actor)")
                }
                #expect(try ledger.callCount(tenant: "acme", tool: "orders.update", actor: nil, since: since, upTo: 5) == min(all, 5))
            }
        }
    }

    @Test("a call an earlier version records (straight into guard_calls, beside a migrated store) is counted",
          arguments: TestStores.kinds)
    func earlierWriterCounted(kind: StoreKind) throws {
        let store = try TestStores.make(kind)
        let base: Int64 = 1_795_856_246_636
        try store.write { tx in
            // What a guard of the version before the buckets wrote for each call, and nothing else.
            for i in 0..<5 {
                try tx.sql.execute("INSERT INTO guard_calls (tenant, tool, ts_ms, actor, audit_seq) VALUES (?, ?, ?, ?, ?)",
                                   [.text("acme"), .text("orders.update"), .int(base + Int64(i) * 45_000), .text("agent-1"), .int(Int64(i + 1))])
            }
        }
        try store.write { (tx: inout StoreTransaction) throws in
            let ledger = StoreGuardLedger(tx)
            for (since, expected) in [(base - 3_600_000, 5), (base + 1, 4), (base + 90_000, 3), (base + 180_001, 0)] {
                let all = try ledger.callCount(tenant: "acme", tool: "orders.update", actor: nil, since: StoreGuardLedger.date(since), upTo: 100)
                let mine = try ledger.callCount(tenant: "acme", tool: "orders.update", actor: "agent-1", since: StoreGuardLedger.date(since), upTo: 100)
                #expect(all == expected && mine == expected, "from \(since): \(all) and \(mine), expected \(expected)")
            }
        }
    }

    @Test("windows that start within two minutes of Int64's ends count exactly, without overflow", arguments: TestStores.kinds)
    func extremeWindows(kind: StoreKind) throws {
        let store = try TestStores.make(kind)
        try store.write { (tx: inout StoreTransaction) throws in
            let ledger = StoreGuardLedger(tx)
            try ledger.recordCall(tenant: "acme", tool: "orders.update", actor: "agent-1", at: StoreGuardLedger.date(1_795_856_246_636), auditSeq: 1)
            // About 2 seconds from each end of Int64 milliseconds: the minute holding the end one overflowed.
            let start = Date(timeIntervalSince1970: -9_223_372_036_854_774), end = Date(timeIntervalSince1970: 9_223_372_036_854_774)
            #expect(StoreGuardLedger.millis(start) <= Int64.min + 120_000 && StoreGuardLedger.millis(end) >= Int64.max - 120_000)
            let all = try ledger.callCount(tenant: "acme", tool: "orders.update", actor: nil, since: start, upTo: 100)
            let mine = try ledger.callCount(tenant: "acme", tool: "orders.update", actor: "agent-1", since: start, upTo: 100)
            let none = try ledger.callCount(tenant: "acme", tool: "orders.update", actor: "agent-1", since: end, upTo: 100)
            #expect(all == 1 && mine == 1 && none == 0)
        }
    }

    @Test("the in-memory ledger counts every call of a window, past 200,000 and recorded out of order")
    func inMemoryKeepsEveryCall() throws {
        let environment = InMemoryEnvironment()
        let base = Date(timeIntervalSince1970: 1_795_856_246)
        try environment.transaction { session in
            let ledger = session.ledger
            for i in 0..<200_001 {
                try ledger.recordCall(tenant: "acme", tool: "orders.update", actor: "agent-1", at: base.addingTimeInterval(Double(i) / 100), auditSeq: Int64(i + 1))
            }
            // Another host's clock: calls earlier than the last one recorded.
            for offset in [-1.0, 5.5, 0.005] {
                try ledger.recordCall(tenant: "acme", tool: "orders.update", actor: "agent-2", at: base.addingTimeInterval(offset), auditSeq: 0)
            }
            let all = try ledger.callCount(tenant: "acme", tool: "orders.update", actor: nil, since: base.addingTimeInterval(-3600), upTo: 1_000_000)
            let mine = try ledger.callCount(tenant: "acme", tool: "orders.update", actor: "agent-1", since: base, upTo: 1_000_000)
            let theirs = try ledger.callCount(tenant: "acme", tool: "orders.update", actor: "agent-2", since: base, upTo: 1_000_000)
            let late = try ledger.callCount(tenant: "acme", tool: "orders.update", actor: nil, since: base.addingTimeInterval(5), upTo: 1_000_000)
            #expect(all == 200_004 && mine == 200_001 && theirs == 2)
            // Calls at base + 5.00 s ... + 2000.00 s of agent-1, and agent-2's at + 5.5 s.
            #expect(late == 200_001 - 500 + 1)
        }
    }

    @Test("a store of the first version keeps its cap usage when migrated: its calls are in the buckets")
    func migratedCallsCount() throws {
        let path = try TestStores.firstVersionStore("v1-caps")
        let store = try AuditStore(path: path, chainKey: nil)
        try store.write { (tx: inout StoreTransaction) throws in
            let ledger = StoreGuardLedger(tx)
            let call = Date(timeIntervalSince1970: 1_795_856_246.636)
            for (since, expected) in [(call.addingTimeInterval(-3600), 1), (call, 1), (call.addingTimeInterval(0.001), 0)] {
                #expect(try ledger.callCount(tenant: "acme", tool: "orders.update", actor: nil, since: since, upTo: 100) == expected)
                #expect(try ledger.callCount(tenant: "acme", tool: "orders.update", actor: "agent-1", since: since, upTo: 100) == expected)
            }
            #expect(try ledger.callCount(tenant: "acme", tool: "orders.update", actor: "agent-2", since: call.addingTimeInterval(-3600), upTo: 100) == 0)
        }
    }
}
