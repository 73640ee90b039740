import Foundation
import RolloutCore
import RolloutStore
import RolloutTestSupport
import Testing

@testable import RolloutAnomaly

/// Varied traffic that sets off every kind of signal: reasons good and bad, keys reused, the same write
/// under two keys, writes around pending approvals, refusals, bulk rows, money values and outliers,
/// deletes, new actors and fields after the learning week, rollout's own control events, ties in time.
enum VariedTraffic {
    static let start = Timestamp.parse("2026-10-01T00:00:00Z")!

    static func events(seed: UInt64, count: Int, tenant: String = "acme") -> [AuditEvent] {
        var random = SeededRandom(seed: seed)
        let tools: [(name: String, operation: String, fields: [String])] = [
            ("orders.update", "update", ["status", "notes"]), ("refunds.issue", "create", ["amount", "currency"]),
            ("customers.delete", "delete", []), ("invoices.adjust", "update", ["total_price", "notes"]), ("rollout.stage", "update", ["stage"]),
        ]
        let reasons: [String?] = ["carrier update from the tracking feed", "customer asked by email for this change", "fix", "", nil, "n/a", "x",
                                  "refund approved per policy 4.2 after review", "ticket 1234: customer requested a refund"]
        let decisions = Array(repeating: "executed", count: 20) + ["allowed", "denied", "cross_tenant", "cap_exceeded", "pending_approval",
                                                                    "idempotency_conflict", "rolled_back", "shadowed"]
        var ms = 0.0
        var previous: AuditEvent?
        var keys: [String] = []
        var burst = 0
        return (0..<count).map { i in
            // Now and then a burst of refusals for one actor.
            if i % 1_500 == 700 { burst = 8 }
            if burst > 0 {
                burst -= 1
                ms += 3_000
                return AuditEvent(ts: start.addingTimeInterval(ms / 1000), tenant: tenant, actor: "agent-7", tool: "orders.update", model: "Thing",
                                  operation: "update", targets: [.number(Double(i))], rowCount: 1, reason: "retrying the carrier update",
                                  idempotencyKey: "burst-\(i)", decision: "denied")
            }
            // Mostly a minute apart; now and then two in the same millisecond (ties in time).
            if Double.random(in: 0..<1, using: &random) > 0.02 { ms += Double.random(in: 1_000...140_000, using: &random) }
            let ts = start.addingTimeInterval(ms / 1000)
            if let previous, Double.random(in: 0..<1, using: &random) < 0.02 {
                // The same write again under another key, or around an approval.
                return AuditEvent(ts: ts, tenant: tenant, actor: previous.actor, tool: previous.tool, model: previous.model, operation: previous.operation,
                                  targets: previous.targets, rowCount: previous.rowCount, changes: previous.changes, reason: previous.reason,
                                  idempotencyKey: "again-\(i)", decision: previous.tool == "rollout.stage" ? "stage_promote" : "executed")
            }
            let tool = tools[Int.random(in: 0..<(i < count / 2 ? 4 : tools.count), using: &random)]
            let late = i > count * 9 / 10
            let actor = late && i % 97 == 0 ? "agent-new" : "agent-\(Int.random(in: 1...4, using: &random))"
            var fields: [String: FieldChange] = [:]
            for field in tool.fields where Double.random(in: 0..<1, using: &random) < 0.8 {
                if field == "amount" || field == "total_price" {
                    var value = (Double.random(in: 10...60, using: &random) * 100).rounded() / 100
                    if Double.random(in: 0..<1, using: &random) < 0.01 { value *= 200 }
                    fields[field] = FieldChange(before: nil, after: .number(value))
                } else {
                    fields[field] = FieldChange(before: "old", after: .string(["a", "b", "shipped"][Int.random(in: 0..<3, using: &random)]))
                }
            }
            if late && i % 89 == 0 { fields["discount_code"] = FieldChange(before: nil, after: "SPRING") }
            let target = JSONValue.number(Double(Int.random(in: 1...400, using: &random)))
            var key = "k-\(i)"
            if !keys.isEmpty, Double.random(in: 0..<1, using: &random) < 0.02 { key = keys[Int.random(in: max(0, keys.count - 30)..<keys.count, using: &random)] }
            keys.append(key)
            let rows = Double.random(in: 0..<1, using: &random) < 0.003 ? Int.random(in: 100...400, using: &random) : 1
            var decision = decisions[Int.random(in: 0..<decisions.count, using: &random)]
            if actor == "agent-3", Double.random(in: 0..<1, using: &random) < 0.3 { decision = "denied" }
            // rollout's own stage changes, as StageController records them.
            if tool.name == "rollout.stage" { decision = "stage_promote" }
            let event = AuditEvent(
                ts: ts, tenant: tenant, actor: actor, tool: tool.name, model: "Thing", operation: tool.operation, targets: [target], rowCount: rows,
                changes: fields.isEmpty ? [] : [RowChange(key: target, fields: fields)],
                reason: reasons[Int.random(in: 0..<reasons.count, using: &random)], idempotencyKey: key, decision: decision,
                approver: Double.random(in: 0..<1, using: &random) < 0.05 ? "alice" : nil)
            previous = event
            return event
        }
    }
}

@Suite("The scoring pass: read once, the same verdict on every path")
struct ScoringPassTests {
    static let events = VariedTraffic.events(seed: 19, count: 14_000)
    /// The last four days of about eleven (the rarity signals learn for a week).
    static let options = ScoreOptions(until: events.last!.ts.addingTimeInterval(60), window: .days(4))

    static func store(_ kind: StoreKind) throws -> AuditStore {
        let store = try TestStores.make(kind)
        try store.append(events)
        return store
    }

    @Test("events read on a second connection in chunks of any size, or on the store's own connection, score the same")
    func readersAgree() throws {
        let store = try Self.store(.sqlite)
        let twin = try #require(try store.readOnlyTwin())
        let reference = try AnomalyScorer.score(store, tenant: "acme", options: Self.options, reader: nil)
        // The traffic sets off many kinds of signal, so agreeing means something.
        let signals = Set(reference.anomalies.map(\.signal))
        #expect(signals.isSuperset(of: ["missing_reason", "key_reuse", "duplicate_write", "write_around_approval", "bulk_rows",
                                        "deny_burst", "rare_pair", "value_outlier"]), "signals seen: \(signals.sorted())")
        for chunkSize in [1, 7, 4_096] {
            let twinScore = try AnomalyScorer.score(store, tenant: "acme", options: Self.options, reader: twin, chunkSize: chunkSize)
            let ownScore = try AnomalyScorer.score(store, tenant: "acme", options: Self.options, reader: nil, chunkSize: chunkSize)
            #expect(twinScore.anomalies == reference.anomalies, "second connection, chunks of \(chunkSize)")
            #expect(ownScore.anomalies == reference.anomalies, "own connection, chunks of \(chunkSize)")
            #expect(twinScore.events == reference.events && twinScore.activeDays == reference.activeDays)
        }
    }

    @Test("tenants whose events one pass reads, a few at a time, get the verdicts a pass each gives them")
    func tenantsTogether() throws {
        // Four tenants' varied traffic interleaved (two of them one name in two Unicode forms: two tenants
        // to SQL); every seventh of globex's events at the time of one of acme's (ties across tenants).
        var acme = VariedTraffic.events(seed: 19, count: 10_000, tenant: "acme")
        var globex = VariedTraffic.events(seed: 23, count: 10_000, tenant: "globex")
        for i in stride(from: 0, to: min(acme.count, globex.count), by: 7) { globex[i].ts = acme[i].ts }
        acme += VariedTraffic.events(seed: 29, count: 3_000, tenant: "caf\u{E9}") + VariedTraffic.events(seed: 31, count: 3_000, tenant: "cafe\u{301}")
        // A burst of globex's an hour before the end: rate anomalies.
        let end = globex.last!.ts
        globex += (0..<400).map { i in
            AuditEvent(ts: end.addingTimeInterval(-3_600 + Double(i) * 0.5), tenant: "globex", actor: "agent-2", tool: "orders.update", model: "Thing",
                       operation: "update", targets: [.number(Double(90_000 + i))], rowCount: 1, reason: "carrier update from the tracking feed",
                       idempotencyKey: "burst-\(i)", decision: "executed")
        }
        let events = (acme + globex).sorted { $0.ts < $1.ts }
        var options = ScoreOptions(until: events.last!.ts.addingTimeInterval(60), window: .days(3))
        let store = try TestStores.make(.sqlite)
        try store.append(events)
        let twin = try #require(try store.readOnlyTwin())
        options.keepIntervals = true
        let tenants = try store.tenants(from: options.from.addingTimeInterval(-options.history.timeInterval), to: options.until)
        #expect(tenants.count == 4)
        let alone = try tenants.map { try AnomalyScorer.score(store, tenant: $0, options: options, reader: twin) }
        #expect(Set(alone.flatMap(\.anomalies).map(\.signal)).isSuperset(of: ["rate", "missing_reason", "key_reuse", "value_outlier", "deny_burst"]))
        for (batch, chunkSize) in [(16, 4_096), (2, 7), (1, 1), (3, 500)] {
            let together = try AnomalyScorer.score(store, tenants: tenants, options: options, reader: twin, batch: batch, chunkSize: chunkSize)
            #expect(together.map(\.tenant) == tenants)
            for (a, b) in zip(together, alone) {
                #expect(a.anomalies == b.anomalies, "\(a.tenant.debugDescription), batches of \(batch), chunks of \(chunkSize)")
                #expect(a.events == b.events && a.activeDays == b.activeDays)
                #expect(a.intervals.map(\.score) == b.intervals.map(\.score) && a.intervals.map(\.start) == b.intervals.map(\.start))
            }
        }
        // A tenant named twice gets its verdict twice.
        let g = try #require(tenants.firstIndex(of: "globex"))
        let twice = try AnomalyScorer.score(store, tenants: [tenants[g], tenants[0], tenants[g]], options: options, reader: twin)
        #expect(!alone[g].anomalies.isEmpty && twice.map(\.anomalies) == [alone[g].anomalies, alone[0].anomalies, alone[g].anomalies])
        // The scorer's own entry reads them together (the tenants with events in the window).
        let entry = try AnomalyScorer.score(store, options: options)
        #expect(entry.count >= 2 && entry.map(\.anomalies) == entry.map { score in alone.first { $0.tenant.utf8.elementsEqual(score.tenant.utf8) }!.anomalies })
    }

    @Test("the rates judged while the pass reads are the rates judged after it, for the tenant, every tool and every actor")
    func streamedRates() throws {
        var events = Self.events
        let end = events.last!.ts
        func write(_ actor: String, _ seconds: Double, _ i: Int) -> AuditEvent {
            AuditEvent(ts: end.addingTimeInterval(-seconds), tenant: "acme", actor: actor, tool: "orders.update", model: "Thing", operation: "update",
                       targets: [.number(Double(90_000 + i))], rowCount: 1, reason: "carrier update from the tracking feed",
                       idempotencyKey: "\(actor)-\(i)", decision: "executed")
        }
        // A burst of one actor an hour before the end (a rate anomaly of the tenant, the tool and the actor);
        // one actor spelled two ways, 150 events each (too few for either id: judged after the pass as one
        // name), another 250 each (both ids judged while reading, then merged into one name: judged again).
        events += (0..<400).map { write("agent-2", 3_600 + Double($0) * 0.5, $0) }
        events += (0..<300).map { write($0 % 2 == 0 ? "Jos\u{E9}" : "Jose\u{301}", 86_400 * 3 + Double($0) * 600, 1_000 + $0) }
        events += (0..<500).map { write($0 % 2 == 0 ? "Zo\u{EB}" : "Zoe\u{308}", 86_400 * 3 + Double($0) * 400 + 7, 2_000 + $0) }
        events.sort { $0.ts < $1.ts }
        let store = try TestStores.make(.sqlite)
        try store.append(events)
        let twin = try #require(try store.readOnlyTwin())
        var options = Self.options
        options.keepIntervals = true
        let after = try AnomalyScorer.score(store, tenant: "acme", options: options, reader: twin, streaming: false)
        let rated = Set(after.anomalies.filter { $0.signal == "rate" }.map(\.entity))
        #expect(rated.isSuperset(of: ["tenant acme", "actor agent-2", "tool orders.update"]), "rate anomalies: \(rated.sorted())")
        for chunkSize in [1, 7, 4_096] {
            for reader in [twin, nil] {
                let streamed = try AnomalyScorer.score(store, tenant: "acme", options: options, reader: reader, chunkSize: chunkSize)
                let otherAnomalies = zip(streamed.anomalies, after.anomalies).filter { $0 != $1 }.map { "\($0.0.entity) at \($0.0.start)" }
                #expect(streamed.anomalies.count == after.anomalies.count && otherAnomalies.isEmpty, "chunks of \(chunkSize): \(otherAnomalies.prefix(5))")
                // Every bucket's combined score, the highest of all series' points in it.
                let otherBuckets = zip(streamed.intervals, after.intervals).filter { $0.start != $1.start || $0.score != $1.score }.map(\.0.start)
                #expect(streamed.intervals.count == after.intervals.count && otherBuckets.isEmpty, "chunks of \(chunkSize): \(otherBuckets.prefix(5))")
            }
        }
    }

    @Test("a PostgreSQL store scores as the same events in SQLite", .enabled(if: TestStores.postgresURL != nil))
    func postgresAgrees() throws {
        let sqlite = try AnomalyScorer.score(Self.store(.sqlite), options: Self.options)
        let postgres = try AnomalyScorer.score(Self.store(.postgres), options: Self.options)
        #expect(sqlite.map(\.anomalies) == postgres.map(\.anomalies))
        #expect(sqlite.map(\.events) == postgres.map(\.events))
    }

    @Test("rows whose time was made a huge number or text by hand silence neither the tenant's rates nor its rules")
    func unreadableTimes() throws {
        let store = try TestStores.temporarySQLite()
        var events = AuditTraffic.background(days: 10)
        let burstAt = events[events.count - 100].ts
        events += (0..<80).map { i in
            write(Double(i) * 3, burstAt, key: "burst-\(i)", target: 9_000 + i)
        }
        events.append(write(600, burstAt, key: "lazy", target: 9_500, reason: "n/a"))
        events.sort { $0.ts < $1.ts }
        try store.append(events)
        let options = ScoreOptions(until: events.last!.ts.addingTimeInterval(60), window: .days(2))
        let before = try #require(AnomalyScorer.score(store, options: options).first)
        #expect(before.anomalies.contains { $0.signal == "rate" })
        #expect(before.anomalies.contains { $0.signal == "missing_reason" })
        try store.write { tx in
            try tx.sql.execute("UPDATE audit_events SET ts_ms = -1e300 WHERE seq = 1")
            try tx.sql.execute("UPDATE audit_events SET ts_ms = 'garbage' WHERE seq = 2")
        }
        let after = try #require(AnomalyScorer.score(store, options: options).first)
        #expect(after.events == before.events && after.activeDays == before.activeDays)
        #expect(after.anomalies.contains { $0.signal == "missing_reason" })
        // (The row made unreadable was the history's first: the burst is found all the same.)
        #expect(after.anomalies.contains { $0.signal == "rate" && $0.entity == "tenant acme" })
    }

    @Test("rollout's own control events are neither counted nor judged")
    func controlEventsSkipped() throws {
        let events = Self.events
        let withControl = try TestStores.make(.sqlite)
        try withControl.append(events)
        let without = try TestStores.make(.sqlite)
        try without.append(events.filter { !$0.tool.hasPrefix("rollout.") })
        #expect(events.contains { $0.tool.hasPrefix("rollout.") })
        let a = try AnomalyScorer.score(withControl, options: Self.options)
        let b = try AnomalyScorer.score(without, options: Self.options)
        #expect(a.map(\.events) == b.map(\.events))
        // The events behind an anomaly are numbered by each store's own chain; the verdicts are the same.
        #expect(a.flatMap(\.anomalies).map { [$0.signal, $0.entity, Timestamp.format($0.start)] }
                == b.flatMap(\.anomalies).map { [$0.signal, $0.entity, Timestamp.format($0.start)] })
    }
}

@Suite("What the scoring pass is built of")
struct ScoringPartsTests {
    @Test("texts get one id per distinct string, also past the table's growth and after forgetting")
    func interner() {
        var interner = TextInterner()
        func id(_ text: String) -> Int32 { Array(text.utf8).withUnsafeBytes { interner.id($0) } }
        let texts = (0..<5_000).map { "text-\($0 * 7919 % 5_000)" } + ["", "é", "a,b", "日本", "ｶ"]
        let ids = texts.map(id)
        #expect(Set(ids).count == texts.count)
        #expect(texts.map(id) == ids)
        #expect(ids.indices.allSatisfy { interner.names[Int(ids[$0])] == texts[$0] })
        // Canonically equivalent texts are one text, as Swift's strings are; it keeps the first spelling.
        #expect(id("e\u{301}") == id("é") && interner.names[Int(id("e\u{301}"))].unicodeScalars.count == 1)
        #expect(id("ｶ") != id("カ"))  // compatibility forms are other texts
        // Equal as Swift's strings are, in either order: a Kelvin sign and K; marks in another order.
        #expect(id("\u{212A}-key") == id("K-key") && id("Q-key") == id("Q-key") && id("\u{212B}") == id("\u{C5}"))
        #expect(id("k\u{301}\u{F73}") == id("k\u{301}\u{F71}\u{F72}"))
        // Bytes that are not UTF-8 read as their repaired string, as the store's strings always were.
        let invalid = [UInt8(0x61), 0xFF].withUnsafeBytes { interner.id($0) }
        #expect(invalid == [UInt8(0x61), 0xFE].withUnsafeBytes { interner.id($0) } && invalid == id("a\u{FFFD}"))
        interner.removeAll()
        #expect(interner.count == 0 && id("second life") == 0)
    }

    @Test("an idempotency key written in two Unicode forms is one key: its reuse for another write is found")
    func keyForms() throws {
        let store = try TestStores.temporarySQLite()
        var events = AuditTraffic.background(days: 10)
        let at = events.last!.ts.addingTimeInterval(-3_600)
        for (i, key) in ["caf\u{E9}-1", "cafe\u{301}-1"].enumerated() {
            let target = JSONValue.number(Double(7_000 + i))
            events.append(AuditEvent(ts: at.addingTimeInterval(Double(i) * 60), tenant: "acme", actor: "agent-1", tool: "orders.update", model: "Order",
                                     operation: "update", targets: [target], rowCount: 1,
                                     changes: [RowChange(key: target, fields: ["status": FieldChange(before: "a", after: .string("b\(i)"))])],
                                     reason: "carrier update from the tracking feed", idempotencyKey: key, decision: "executed"))
        }
        events.sort { $0.ts < $1.ts }
        try store.append(events)
        let score = try AnomalyScorer.score(store, options: ScoreOptions(until: events.last!.ts.addingTimeInterval(60), window: .days(2)))
        #expect(score.flatMap(\.anomalies).filter { $0.signal == "key_reuse" }.count == 1)
    }

    @Test("an idempotency key is remembered for a day after its last use: reused for another write 23 hours on it is found, 25 hours on it is not")
    func keyHorizon() throws {
        let store = try TestStores.temporarySQLite()
        var events = AuditTraffic.background(days: 10)
        let first = events.last!.ts.addingTimeInterval(-30 * 3_600)
        for (key, hours) in [("within-a-day", 23.0), ("past-a-day", 25.0)] {
            for (i, offset) in [0.0, hours * 3_600].enumerated() {
                let target = JSONValue.number(Double(8_000 + i))
                events.append(AuditEvent(ts: first.addingTimeInterval(offset), tenant: "acme", actor: "agent-1", tool: "orders.update", model: "Order",
                                         operation: "update", targets: [target], rowCount: 1,
                                         changes: [RowChange(key: target, fields: ["status": FieldChange(before: "a", after: .string("b\(i)"))])],
                                         reason: "carrier update from the tracking feed", idempotencyKey: key, decision: "executed"))
            }
        }
        events.sort { $0.ts < $1.ts }
        // The background's own keys are forgotten in between, in arrival order.
        #expect(events.filter { $0.idempotencyKey != nil }.count > 1_000)
        try store.append(events)
        let score = try AnomalyScorer.score(store, options: ScoreOptions(until: events.last!.ts.addingTimeInterval(60), window: .days(2)))
        let reuses = score.flatMap(\.anomalies).filter { $0.signal == "key_reuse" }.map(\.message)
        #expect(reuses.count == 1 && reuses.allSatisfy { $0.contains("within-a-day") }, "\(reuses)")
    }

    @Test("the digest map keeps what a dictionary keeps, through growth, removals and keys crowded into a few places")
    func digestMap() {
        var random = SeededRandom(seed: 13)
        var map = DigestMap<Int>()
        var reference: [TextDigest: Int] = [:]
        // Homes crowded at the table's start and at its end (runs that wrap around), and spread ones.
        let keys = (0..<3_000).map { i -> TextDigest in
            let spread = UInt64.random(in: 0...UInt64.max, using: &random)
            let high: UInt64 = switch i % 3 {
            case 0: UInt64(i % 5)
            case 1: UInt64.max - UInt64(i % 4)
            default: spread
            }
            return TextDigest(high: high, low: UInt64(i))
        }
        for step in 0..<60_000 {
            let key = keys[Int.random(in: 0..<(step < 20_000 ? 1_000 : keys.count), using: &random)]
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<5:
                map[key] = step
                reference[key] = step
            case 5..<8:
                map[key] = nil
                reference[key] = nil
            default:
                #expect(map[key] == reference[key])
            }
            if step % 5_000 == 0 {
                #expect(map.count == reference.count)
                #expect(keys.allSatisfy { map[$0] == reference[$0] })
            }
        }
        #expect(map.count == reference.count && keys.allSatisfy { map[$0] == reference[$0] })
    }

    @Test("a handoff holds at most its capacity: values read are let go")
    func handoffMemory() throws {
        final class Tracked: @unchecked Sendable {
            static let lock = NSLock()
            nonisolated(unsafe) static var live = 0
            init() { Self.lock.withLock { Self.live += 1 } }
            deinit { Self.lock.withLock { Self.live -= 1 } }
        }
        let handoff = Handoff<Tracked>(capacity: 3)
        let producer = Concurrently { for _ in 0..<2_000 where !handoff.put(Tracked()) { break }; handoff.finish() }
        var most = 0, read = 0
        while let value = try handoff.next() {
            read += 1
            _ = value
            Thread.sleep(forTimeInterval: read % 100 == 0 ? 0.002 : 0)
            most = max(most, Tracked.lock.withLock { Tracked.live })
        }
        try producer.value()
        #expect(read == 2_000)
        #expect(most <= 3 + 2, "at most the queue, the value in hand and the one being put: \(most)")
    }

    @Test("digests tell texts apart, also effects differing only past their first half; equivalent spellings are one")
    func digests() {
        func digest(_ text: String) -> TextDigest { Array(text.utf8).withUnsafeBytes { TextDigest($0) } }
        #expect(digest("k-1") == digest("k-1") && digest("k-1") != digest("k-2") && digest("") != digest("\u{0}"))
        let hex = String(repeating: "0123456789abcdef", count: 4)
        #expect(digest(hex) != digest(String(hex.dropLast()) + "0") && digest(hex) != digest(hex.uppercased()))
        #expect(digest("caf\u{E9}") == digest("cafe\u{301}") && digest("caf\u{E9}") != digest("cafe"))
        #expect(digest("\u{212A}") == digest("K") && digest("k\u{301}\u{F73}") == digest("k\u{301}\u{F71}\u{F72}"))
    }

    @Test("a pipe hands every value over in order, then the producer's error; a consumer that throws stops the producer")
    func pipe() throws {
        struct Failed: Error {}
        var seen: [Int] = []
        try Handoff<Int>.pipe(capacity: 2, produce: { put in for i in 0..<50 { _ = put(i) } }, consume: { seen.append($0) })
        #expect(seen == Array(0..<50))
        seen = []
        #expect(throws: Failed.self) {
            try Handoff<Int>.pipe(produce: { put in
                for i in 0..<10 { _ = put(i) }
                throw Failed()
            }, consume: { seen.append($0) })
        }
        #expect(seen == Array(0..<10))
        // The consumer stops at 3: the producer's next put says so, and the pipe waits for it to end.
        let produced = Counter()
        #expect(throws: Failed.self) {
            try Handoff<Int>.pipe(capacity: 1, produce: { put in
                var i = 0
                while put(i) { i += 1; produced.set(i) }
            }, consume: { if $0 == 3 { throw Failed() } })
        }
        #expect(produced.value < 10)
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var stored = 0
        var value: Int { lock.withLock { stored } }
        func set(_ value: Int) { lock.withLock { stored = value } }
    }

    @Test("a handoff delivers values in order, then the producer's error; a cancel frees a waiting producer")
    func handoff() throws {
        struct Failed: Error {}
        let handoff = Handoff<Int>(capacity: 2)
        let producer = Concurrently { () -> Bool in
            for i in 0..<100 where !handoff.put(i) { return false }
            handoff.finish(throwing: Failed())
            return true
        }
        var seen: [Int] = []
        #expect(throws: Failed.self) { while let value = try handoff.next() { seen.append(value) } }
        let finished = try producer.value()
        #expect(seen == Array(0..<100) && finished)

        let stopped = Handoff<Int>(capacity: 1)
        let blocked = Concurrently { () -> Int in
            var sent = 0
            while stopped.put(sent) { sent += 1 }
            return sent
        }
        #expect(try stopped.next() == 0)
        stopped.cancel()
        let sent = try blocked.value()
        #expect(sent >= 1)
        #expect(try stopped.next() == nil)
    }
}

@Suite("The rate detector's arithmetic, made faster, gives the same numbers")
struct DetectorArithmeticTests {
    @Test("the median by selection is the median by sorting, on arrays of every small size with repeats")
    func medianBySelection() {
        var random = SeededRandom(seed: 7)
        for size in 1...80 {
            for _ in 0..<40 {
                var values = (0..<size).map { _ in Double(Int.random(in: 0...9, using: &random)) / 2 + (Bool.random(using: &random) ? 0 : -0.0) }
                let sorted = values.sorted()
                let expected = size % 2 == 1 ? sorted[size / 2] : (sorted[size / 2 - 1] + sorted[size / 2]) / 2
                #expect(RateDetector.median(&values) == expected, "size \(size)")
                #expect(values.sorted() == sorted)  // only reordered
            }
        }
    }

    /// Detector settings the moving windows must get right: the default day, a short day, days so short
    /// that the same-time-of-day slots overlap (a bucket in the baseline twice), no spread.
    static let windowConfigurations: [(bucketsPerDay: Int, slotSpread: Int, referenceDays: Int)] = [
        (288, 1, 7), (24, 1, 7), (2, 1, 7), (1, 1, 3), (12, 0, 7), (6, 3, 2),
    ]

    @Test("the baseline kept in moving sorted windows scores every bucket as selecting it afresh does",
          arguments: windowConfigurations)
    func movingWindows(_ setting: (bucketsPerDay: Int, slotSpread: Int, referenceDays: Int)) {
        var configuration = RateDetector.Configuration()
        configuration.bucketsPerDay = setting.bucketsPerDay
        configuration.slotSpread = setting.slotSpread
        configuration.referenceDays = setting.referenceDays
        configuration.warmup = min(configuration.warmup, setting.bucketsPerDay)
        var random = SeededRandom(seed: UInt64(setting.bucketsPerDay * 31 + setting.slotSpread))
        // Quiet stretches, repeats, a daily rhythm and bursts: many equal values in one window.
        let counts = (0..<(setting.bucketsPerDay * 12 + 500)).map { i -> Double in
            let rhythm = Double(i % max(setting.bucketsPerDay, 1)) / Double(max(setting.bucketsPerDay, 1))
            if i % 997 < 6 { return Double(40 + i % 7) }
            if Int.random(in: 0..<10, using: &random) < 3 { return 0 }
            return Double(Int.random(in: 0...Int(3 + 6 * rhythm), using: &random))
        }
        var moving = RateDetector.Stream(configuration: configuration)
        var selecting = RateDetector.Stream(selectingEachTime: configuration)
        var differ = 0
        for count in counts where moving.push(count) != selecting.push(count) { differ += 1 }
        #expect(differ == 0)
        // A count that is no count (negative) turns the windows off from there on, still agreeing.
        var broken = RateDetector.Stream(configuration: configuration), reference = RateDetector.Stream(selectingEachTime: configuration)
        let withHole = Array(counts.prefix(400)) + [-3] + Array(counts.dropFirst(400))
        // (Printed, so that the not-a-numbers it makes compare equal.)
        #expect(withHole.allSatisfy { count in "\(broken.push(count))" == "\(reference.push(count))" })
    }

    @Test("a window moved by the values that leave and enter holds what removing and inserting them one by one leaves")
    func windowMove() {
        var random = SeededRandom(seed: 19)
        // Few distinct values, so that leaving and entering values are often equal and cancel.
        let palette = (1...6).map { 2 * (Double($0) + 0.375).squareRoot() }
        var window = SortedWindow()
        var expected: [Double] = []
        for step in 0..<3_000 {
            // Asked before the move too: a window's remembered median must not outlive the move.
            if window.count >= 1 { _ = window.medianAndDeviation() }
            let leaving = expected.indices.shuffled(using: &random).prefix(Int.random(in: 0...min(expected.count, 8), using: &random))
            let entering = (0..<Int.random(in: 0...8, using: &random)).map { _ in palette[Int.random(in: 0..<palette.count, using: &random)] }
            let series = leaving.map { expected[$0] } + entering
            for value in leaving.map({ expected[$0] }) { expected.remove(at: expected.firstIndex(of: value)!) }
            expected = (expected + entering).sorted()
            series.withUnsafeBufferPointer { buffer in
                window.move(leaving: Array(0..<leaving.count), entering: Array(leaving.count..<series.count), of: buffer)
            }
            #expect(window.values == expected, "step \(step)")
            guard !expected.isEmpty else { continue }
            let median = window.median()
            let spread = window.medianAndDeviation()
            #expect(spread.median == median && spread.deviation == window.medianAbsoluteDeviation(from: median), "step \(step)")
        }
    }

    @Test("the tail model's past, merged at each refit, is every value above 1 observed, sorted, and the values of at most 1 counted")
    func tailModelPast() {
        var random = SeededRandom(seed: 11)
        var model = TailModel()
        var all: [Double] = []
        for i in 0..<5_000 {
            let value = Double.random(in: 0..<1, using: &random) < 0.3 ? 0 : Double.random(in: 0...20, using: &random)
            if i >= 288 { _ = model.tailProbability(value) }
            model.observe(value)
            all.append(value)
            #expect(model.count == all.count)
        }
        _ = model.tailProbability(1)
        #expect(model.atMostOne == all.filter { $0 <= 1 }.count)
        // The last refit merged everything observed before it, at most `refitEvery` values ago.
        let merged = (all.count - model.refitEvery...all.count).filter { model.sorted == all.prefix($0).filter { $0 > 1 }.sorted() }
        #expect(!merged.isEmpty)
    }

    /// The tail model as it was before values of at most 1 were only counted: every value kept, all
    /// of them sorted at each refit. What the model must still give, bit for bit.
    struct EveryValueTail {
        var values: [Double] = []
        var sinceFit = Int.max
        var fit: (threshold: Double, shape: Double, scale: Double, exceedances: Int)?

        mutating func tailProbability(_ value: Double) -> Double? {
            if sinceFit >= 12 {
                sinceFit = 0
                fit = nil
                let sorted = values.sorted()
                if sorted.count > 100 {
                    let threshold = max(sorted[Int(Double(sorted.count - 1) * 0.99)], 1)
                    let excesses = sorted.filter { $0 > threshold }.map { $0 - threshold }
                    if excesses.count >= 10 {
                        let mean = excesses.reduce(0, +) / Double(excesses.count)
                        let variance = excesses.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(excesses.count)
                        fit = variance <= 0
                            ? (threshold, 0, max(mean, 1e-9), excesses.count)
                            : (threshold, 0.5 * (1 - mean * mean / variance), max(0.5 * mean * (1 + mean * mean / variance), 1e-9), excesses.count)
                    }
                }
            }
            sinceFit += 1
            guard let fit else { return nil }
            let y = value - fit.threshold, rate = Double(fit.exceedances) / Double(values.count)
            if y <= 0 { return rate }
            if abs(fit.shape) < 1e-6 { return rate * exp(-y / fit.scale) }
            let base = 1 + fit.shape * y / fit.scale
            return base <= 0 ? 0 : rate * pow(base, -1 / fit.shape)
        }
    }

    @Test("the tail model's threshold when the 99th percentile is the first value above 1 (found by a review)")
    func tailModelQuantileAtTheBoundary() {
        // 1,101 values: 1,089 of at most 1, then 1.125, then 11 between 10 and 20. The quantile's position,
        // Int(1,100 × 0.99) = 1,089, is the first value kept above 1: the threshold is 1.125, not 1 (and a
        // value just above 1 must be kept, not counted with those of at most 1).
        var random = SeededRandom(seed: 23)
        let values = (0..<1_089).map { i in [0, 1, 0.5][i % 3] } + [1.125] + (0..<11).map { _ in Double(Int.random(in: 10...20, using: &random)) }
        var model = TailModel(), reference = EveryValueTail()
        for value in values.shuffled(using: &random) {
            model.observe(value)
            reference.values.append(value)
        }
        for probe in [0, 1, 1.125, 2, 3, 12, 25, 40.0] {
            var fresh = model, again = reference
            #expect(fresh.tailProbability(probe) == again.tailProbability(probe), "probe \(probe)")
        }
        var fitted = reference
        _ = fitted.tailProbability(0)
        #expect(fitted.fit?.threshold == 1.125)
    }

    @Test("the tail model gives every probability a model keeping every value gives, bit for bit",
          arguments: [0.0, 0.5, 0.9, 0.995])
    func tailModelAgrees(quiet: Double) {
        // `quiet` of the values are 0, 1 or below: from a spiky signal to one whose 99th percentile is at most 1.
        var random = SeededRandom(seed: UInt64(quiet * 1000) + 3)
        var model = TailModel(), reference = EveryValueTail()
        var differ = 0
        for i in 0..<6_000 {
            let value: Double
            if Double.random(in: 0..<1, using: &random) < quiet {
                value = [0, 1, Double.random(in: 0..<1, using: &random)][Int.random(in: 0..<3, using: &random)]
            } else {
                value = 1 + Double(Int.random(in: 0...40, using: &random)) / 8 + (i % 500 == 0 ? 30 : 0)
            }
            if model.tailProbability(value) != reference.tailProbability(value) { differ += 1 }
            model.observe(value)
            reference.values.append(value)
        }
        #expect(differ == 0)
    }
}
