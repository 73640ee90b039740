import Foundation
import GRDB
import PropertyBased
import RolloutCore
import RolloutTestSupport
import Testing

@testable import RolloutStore

func sampleEvent(_ i: Int, tenant: String = "acme") -> AuditEvent {
    AuditEvent(
        ts: Date(timeIntervalSince1970: 1_764_000_000 + Double(i)), tenant: tenant, actor: "agent-\(i % 3)", session: "s",
        tool: "orders.update", model: "Order", operation: "update", targets: [.number(Double(i))], rowCount: 1,
        changes: [RowChange(key: .number(Double(i)), fields: ["status": FieldChange(before: "pending", after: "shipped")])],
        reason: "reason number \(i)", idempotencyKey: "k-\(i)", decision: "executed")
}

@Suite("Store: the hash chain")
struct HashChainTests {
    @Test("a stored hash matches, compared in place, only as the exact lowercase text HashChain.hash writes", arguments: [
        ("same", true), ("uppercase", false), ("one digit changed", false), ("one digit short", false), ("empty", false),
    ])
    func hashMatchesInPlace(variant: String, matches: Bool) {
        let previous = HashChain.genesis, body = #"{"seq":1,"tenant":"acme"}"#
        let hash = HashChain.hash(previous: previous, body: body)
        let stored = switch variant {
        case "uppercase": hash.uppercased()
        case "one digit changed": String(hash.dropLast()) + (hash.last == "0" ? "1" : "0")
        case "one digit short": String(hash.dropLast())
        case "empty": ""
        default: hash
        }
        var p = previous, b = body, h = stored
        let result = p.withUTF8 { p in b.withUTF8 { b in h.withUTF8 { h in HashChain.matches(previous: p, body: b, hash: h) } } }
        #expect(result == matches, "\(variant)")
    }

    @Test("events append with sequence numbers and the chain continues across openings", arguments: TestStores.kinds)
    func appendAndReopen(kind: StoreKind) throws {
        let store = try TestStores.make(kind)
        try store.append((1...5).map { sampleEvent($0) })
        let head = try store.head()
        #expect(head.seq == 5)
        let reopened = try AuditStore(path: store.path)
        try reopened.append([sampleEvent(6)])
        #expect(try reopened.head().seq == 6)
        let check = try reopened.verify()
        #expect(check.ok && check.checked == 6)
        // The stored event reads back as written.
        let read = try #require(try reopened.event(seq: 3))
        var expected = sampleEvent(3)
        expected.seq = 3
        #expect(read == expected)
    }

    /// A tampering a person with write access to the file could do.
    enum Tamper: Int, CaseIterable {
        case editBody, editColumn, deleteRow, deleteLast, swapRows, editAndRehash
    }

    static func tamper(_ sql: any SQLConnection, _ kind: Tamper, at k: Int64, count: Int64) throws {
        switch kind {
        case .editBody:
            try sql.execute("UPDATE audit_events SET body = replace(body, 'shipped', 'cancelled') WHERE seq = ?", [.int(k)])
        case .editColumn:
            try sql.execute("UPDATE audit_events SET tenant = 'globex' WHERE seq = ?", [.int(k)])
        case .deleteRow:
            try sql.execute("DELETE FROM audit_events WHERE seq = ?", [.int(k)])
        case .deleteLast:
            try sql.execute("DELETE FROM audit_events WHERE seq = ?", [.int(count)])
        case .swapRows:
            let other = k == count ? k - 1 : k + 1
            try sql.execute("UPDATE audit_events SET seq = -1 WHERE seq = ?", [.int(k)])
            try sql.execute("UPDATE audit_events SET seq = ? WHERE seq = ?", [.int(k), .int(other)])
            try sql.execute("UPDATE audit_events SET seq = ? WHERE seq = -1", [.int(other)])
        case .editAndRehash:
            // The careful attacker recomputes the edited event's own hash.
            let row = try sql.queryOne("SELECT body, prev_hash FROM audit_events WHERE seq = ?", [.int(k)])!
            let body = row.string("body").replacingOccurrences(of: "shipped", with: "cancelled")
            try sql.execute("UPDATE audit_events SET body = ?, hash = ? WHERE seq = ?",
                            [.text(body), .text(HashChain.hash(previous: row.string("prev_hash"), body: body)), .int(k)])
        }
    }

    @Test("any single edit, deletion or swap makes verify fail (property)", arguments: TestStores.kinds)
    func tamperingIsDetected(engine: StoreKind) async throws {
        await propertyCheck(count: engine == .postgres ? 12 : 60, input: Gen.int(in: 1...20), Gen<Tamper>.case) { k, kind in
            let store = try TestStores.make(engine)
            try store.append((1...20).map { sampleEvent($0) })
            #expect(try store.verify().ok)
            try store.write { tx in try Self.tamper(tx.sql, kind, at: Int64(k), count: 20) }
            let result = try store.verify()
            #expect(!result.ok, "\(kind) at \(k) went unnoticed")
        }
    }

    @Test("verify names the first break", arguments: TestStores.kinds, [
        (Tamper.editBody, ChainVerification.Problem.edited), (.editColumn, .columnEdited), (.deleteRow, .missing),
        (.deleteLast, .headMismatch), (.swapRows, .brokenLink),
    ])
    func firstBreak(engine: StoreKind, _ pair: (Tamper, ChainVerification.Problem)) throws {
        let (kind, problem) = pair
        let store = try TestStores.make(engine)
        try store.append((1...10).map { sampleEvent($0) })
        try store.write { tx in try Self.tamper(tx.sql, kind, at: 4, count: 10) }
        let result = try store.verify()
        #expect(result.firstBreak?.problem == problem, "\(String(describing: result.firstBreak))")
        #expect((result.firstBreak?.seq ?? 0) >= 4)
    }
}

extension HashChainTests.Tamper: Sendable {}

@Suite("Store: canonical bodies")
struct CanonicalBodyTests {
    @Test("the fast body writer gives exactly the canonical text of the event's JSON")
    func fastWriterMatches() throws {
        var events = (1...5).map { sampleEvent($0) }
        events[1].extra = ["zeta": 1, "alpha": ["nested": [1, 2]], "label": "x\"y"]
        events[2].changes.append(RowChange(key: 99, fields: ["notes": FieldChange(before: nil, after: "a\nb")]))
        events[3].details = ["approval_id": 3, "would_be": "executed"]
        events[4].seq = 42
        events[4].session = nil
        for event in events {
            #expect(event.canonicalBytes == event.json.canonicalBytes)
        }
    }
}

/// The write-ahead log is folded into the file beside the writers, not inside a commit.
@Suite("Store: background checkpoints")
struct CheckpointTests {
    @Test("appended events reach the database file within seconds with no writer checkpointing; the chain verifies")
    func background() async throws {
        let path = TestPaths.scratchFile("rollout") + ".sqlite"
        let store = try AuditStore(path: path)
        func size(_ file: String) -> Int { ((try? FileManager.default.attributesOfItem(atPath: file)[.size]) as? NSNumber)?.intValue ?? 0 }
        let before = size(path)
        _ = try store.append((1...3000).map { sampleEvent($0) })
        #expect(size(path + "-wal") > 1_000_000, "the events are in the WAL")
        #expect(size(path) == before, "below the backstop, no writer checkpointed")
        var grown = false
        for _ in 0..<100 where !grown {
            try await Task.sleep(nanoseconds: 100_000_000)
            grown = size(path) > before + 1_000_000
        }
        #expect(grown, "the background checkpoint moved the pages into the file")
        #expect(try store.verify().ok && store.verify().checked == 3000)
    }
}
