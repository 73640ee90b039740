import Foundation
import RolloutCore
import RolloutStore
import RolloutTestSupport
import Testing

@testable import RolloutAnomaly

struct PlantedCase: Sendable, CustomTestStringConvertible {
    var signal: String
    var events: @Sendable (Date) -> [AuditEvent]
    var testDescription: String { signal }
}

func write(_ seconds: Double, _ base: Date, key: String, target: Int = 9001, status: String = "shipped", actor: String = "agent-1",
           decision: String = "executed", rows: Int = 1, reason: String = "customer ticket 5521 asks for this") -> AuditEvent {
    AuditEvent(ts: base.addingTimeInterval(seconds), tenant: "acme", actor: actor, tool: "orders.update", model: "Order", operation: "update",
               targets: [.number(Double(target))], rowCount: rows,
               changes: decision == "executed" ? [RowChange(key: .number(Double(target)), fields: ["status": FieldChange(before: "pending", after: .string(status))])] : [],
               reason: reason, idempotencyKey: key, decision: decision)
}

@Suite("Anomaly scoring: rules, causality, the rate signal")
struct ScorerTests {
    static let start = Timestamp.parse("2026-11-01T00:00:00Z")!
    static let plantAt = start.addingTimeInterval(9 * 86_400 + 12 * 3600 + 60)
    static let until = start.addingTimeInterval(10 * 86_400)

    static let cases: [PlantedCase] = [
        PlantedCase(signal: "duplicate_write") { t in
            [write(0, t, key: "dup-a"), write(90, t, key: "dup-b")]
        },
        PlantedCase(signal: "deny_burst") { t in
            (0..<8).map { write(Double($0) * 20, t, key: "deny-\($0)", actor: "agent-3", decision: "cross_tenant") }
        },
        PlantedCase(signal: "bulk_rows") { t in
            [write(0, t, key: "bulk-1", rows: 40)]
        },
        PlantedCase(signal: "key_reuse") { t in
            [write(0, t, key: "same-key", target: 9001), write(1_800, t, key: "same-key", target: 9002)]
        },
        PlantedCase(signal: "missing_reason") { t in
            [write(0, t, key: "lazy-1", reason: "n/a")]
        },
    ]

    func store(with planted: [AuditEvent]) throws -> AuditStore {
        let store = try TestStores.temporarySQLite()
        var events = AuditTraffic.background() + planted
        events.sort { $0.ts < $1.ts }
        try store.append(events)
        return store
    }

    @Test("each planted rule breach produces exactly one explained anomaly", arguments: cases)
    func plantedRule(_ planted: PlantedCase) throws {
        let store = try store(with: planted.events(Self.plantAt))
        let scores = try AnomalyScorer.score(store, options: ScoreOptions(until: Self.until, window: .days(3)))
        let anomalies = try #require(scores.first).anomalies
        let matching = anomalies.filter { $0.signal == planted.signal }
        #expect(matching.count == 1, "\(anomalies.map { "\($0.signal): \($0.message)" })")
        #expect(anomalies.count == 1, "only the planted anomaly: \(anomalies.map { "\($0.signal): \($0.message)" })")
        if let anomaly = matching.first {
            #expect(!anomaly.message.isEmpty && !anomaly.events.isEmpty)
            #expect(abs(anomaly.start.timeIntervalSince(Self.plantAt)) < 3_600)
        }
    }

    @Test("the steady background alone has no anomaly")
    func quietIsQuiet() throws {
        let store = try store(with: [])
        let score = try #require(try AnomalyScorer.score(store, options: ScoreOptions(until: Self.until, window: .days(7))).first)
        #expect(score.anomalies.isEmpty, "\(score.anomalies.map(\.message))")
        #expect(score.activeDays == 7 && score.events == 7 * 288)
    }

    @Test("a burst of writes is a rate anomaly with its window, observed and expected counts and events")
    func rateBurst() throws {
        let burst = (0..<150).map { write(Double($0) * 2, Self.plantAt, key: "burst-\($0)", target: 20_000 + $0) }
        let store = try store(with: burst)
        let anomalies = try #require(try AnomalyScorer.score(store, options: ScoreOptions(until: Self.until, window: .days(3))).first).anomalies
        let rate = anomalies.filter { $0.family == .rate }
        #expect(!rate.isEmpty)
        let tenant = try #require(rate.first { $0.entity == "tenant acme" })
        #expect(tenant.observed > 100 && tenant.expected < 10 && tenant.bandHigh < tenant.observed)
        #expect(tenant.start <= Self.plantAt.addingTimeInterval(300) && tenant.end >= Self.plantAt)
        #expect(!tenant.events.isEmpty && tenant.message.contains("expected"))
    }

    @Test("appending future events never changes a past score")
    func causality() throws {
        let store = try store(with: [])
        let first = Self.start.addingTimeInterval(8 * 86_400)
        func intervals(until: Date, days: Int = 2) throws -> [Date: Double] {
            let options = ScoreOptions(until: until, window: .days(days), keepIntervals: true)
            let score = try #require(try AnomalyScorer.score(store, options: options).first)
            return Dictionary(uniqueKeysWithValues: score.intervals.map { ($0.start, $0.score) })
        }
        // Scores of the window [day 6, day 8), before and after appending a wild day 9.
        let before = try intervals(until: first)
        let anomalyBefore = try AnomalyScorer.score(store, options: ScoreOptions(until: first, window: .days(2))).first?.anomalies.count
        try store.append((0..<400).map { write(Double($0) * 10, Self.plantAt, key: "late-\($0)", decision: $0 % 2 == 0 ? "executed" : "cross_tenant") })
        let after = try intervals(until: first)
        #expect(before == after)
        #expect(try AnomalyScorer.score(store, options: ScoreOptions(until: first, window: .days(2))).first?.anomalies.count == anomalyBefore)
        // And a longer window that reaches the new events scores the old buckets the same.
        let longer = try intervals(until: Self.until, days: 4)
        #expect(longer.count > before.count)
        for (start, score) in before { #expect(longer[start] == score, "\(start)") }
    }
}

@Suite("Anomaly scoring: the rate detector alone")
struct RateDetectorTests {
    @Test("noise around a steady rate is never anomalous; one extra write on a quiet series is not either")
    func noAlarms() {
        var rng = SeededRandom(seed: 7)
        let noisy = (0..<4032).map { _ in Double(Int.random(in: 8...12, using: &rng)) }
        #expect(RateDetector().run(noisy).allSatisfy { !$0.anomalous })
        var quiet = [Double](repeating: 0, count: 4032)
        for i in stride(from: 0, to: 4032, by: 97) { quiet[i] = 1 }
        quiet[3500] = 2
        #expect(RateDetector().run(quiet).allSatisfy { !$0.anomalous })
    }

    @Test("a burst after a week of steady traffic is anomalous, at the burst")
    func burst() {
        var counts = [Double](repeating: 3, count: 3000)
        for i in 2900..<2906 { counts[i] = 60 }
        let points = RateDetector().run(counts)
        let flagged = points.indices.filter { points[$0].anomalous }
        #expect(!flagged.isEmpty)
        #expect(flagged.allSatisfy { $0 >= 2900 && $0 < 2950 })
        #expect(points[2900..<2906].map(\.score).max()! > RateDetector.alertScore)
    }
}

@Suite("Anomaly scoring: each tool's own reason rule")
struct ReasonRulePerToolTests {
    @Test("a reason is judged by the rule of the tool it was given to, not by the policy's first tool")
    func perTool() throws {
        let policy = try Policy.parse("""
            version: 1
            models:
              Order: {table: orders, key: id, tenant_field: tenant_id, fields: {status: {type: string, in: [a, b]}}}
            tools:
              strict.update: {model: Order, operation: update, writable: [status], reason: {required: true, min_length: 30}}
              lenient.update: {model: Order, operation: update, writable: [status], reason: optional}
            """)
        let base = ScorerTests.plantAt
        func event(_ tool: String, _ seconds: Double, reason: String?) -> AuditEvent {
            var e = write(seconds, base, key: "\(tool)-\(seconds)", reason: reason ?? "")
            e.tool = tool
            e.reason = reason
            return e
        }
        let store = try TestStores.temporarySQLite()
        try store.append([
            event("lenient.update", 0, reason: nil), event("lenient.update", 60, reason: "ok fix"),
            event("strict.update", 120, reason: "refund per ticket 4455"),
        ])
        var options = ScoreOptions(until: ScorerTests.until, window: .days(3))
        options.reasonRules(from: policy)
        let anomalies = try AnomalyScorer.score(store, options: options).first?.anomalies.filter { $0.signal == "missing_reason" } ?? []
        #expect(anomalies.count == 1, "\(anomalies.map(\.message))")
        #expect(anomalies.first?.message.contains("strict.update") == true && anomalies.first?.message.contains("at least 30") == true)
    }
}
