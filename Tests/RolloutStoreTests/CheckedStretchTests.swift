import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

@testable import RolloutStore

@Suite("Store: events after an event are picked only from a stretch of the chain that holds")
struct CheckedStretchTests {
    /// Ten events, tenants alternating (acme on odd positions), the even ones naming an approver.
    static func store(_ kind: StoreKind, key: ChainKey? = nil) throws -> AuditStore {
        let store = key == nil ? try TestStores.make(kind) : try AuditStore(path: TestPaths.scratchFile("rollout") + ".sqlite", chainKey: key)
        try store.append((1...10).map { i in
            var event = sampleEvent(i, tenant: i % 2 == 1 ? "acme" : "globex")
            if i % 4 == 1 { event.approver = "dev.patel" }
            if i == 7 { event.decision = "rolled_back" }
            return event
        })
        return store
    }

    static func picked(_ store: AuditStore, after seq: Int64, _ pick: EventPick) throws -> CheckedEvents {
        try store.write { tx in try tx.checkedEvents(after: seq, pick) }
    }

    /// Rewrites the bodies from event `from` to the head with `edit`, each hash and link recomputed and the
    /// head moved along (its columns made to agree): what an attacker without the chain key can do.
    static func rewrite(_ store: AuditStore, from: Int64, _ edit: (Int64, String) -> String) throws {
        try store.write { tx in
            var previous = try #require(try tx.sql.scalar("SELECT hash FROM audit_events WHERE seq = ?", [.int(from - 1)])?.string)
            let last = try #require(try tx.sql.scalar("SELECT max(seq) FROM audit_events")?.int64)
            for seq in from...last {
                let body = edit(seq, try #require(try tx.sql.scalar("SELECT body FROM audit_events WHERE seq = ?", [.int(seq)])?.string))
                let hash = HashChain.hash(previous: previous, body: body)
                let derived = DerivedColumns(decoding: try JSONValue.parse(body))
                try tx.sql.execute("""
                    UPDATE audit_events SET body = ?, prev_hash = ?, hash = ?, approver = json_extract(?, '$.approver'), effect = ?, shape = ?
                    WHERE seq = ?
                    """, [.text(body), .text(previous), .text(hash), .text(body), SQLValue(derived.effect), SQLValue(derived.shape), .int(seq)])
                previous = hash
            }
            try tx.sql.execute("UPDATE chain_head SET hash = ? WHERE id = 1", [.text(previous)])
        }
    }

    @Test("a check made before the transaction is resumed inside it: the events appended since are added, and a change to where it ended is caught",
          arguments: ["appended", "another pick", "its last event rewritten", "its last event deleted"])
    func resumed(variant: String) throws {
        let store = try Self.store(.sqlite)
        let pick = EventPick.writes(tenant: "acme", model: "Order", decisions: ["executed"])
        let before = try store.checkedEvents(after: 3, pick)
        #expect(before.events.map(\.seq) == [5, 9] && before.through?.seq == 10)
        try store.append((11...14).map { sampleEvent($0, tenant: "acme") })
        var resumedPick = pick
        switch variant {
        case "another pick": resumedPick = .namingAnApprover(tenant: "acme")
        case "its last event rewritten":
            // Rewritten with every hash after it recomputed: the links hold, the hash it ended on does not.
            try Self.rewrite(store, from: 10) { seq, body in seq == 10 ? body.replacingOccurrences(of: "shipped", with: "cancelled") : body }
        case "its last event deleted":
            try store.write { tx in
                try tx.sql.execute("DELETE FROM audit_events WHERE seq >= 10")
                try tx.sql.execute("UPDATE chain_head SET seq = 9, hash = (SELECT hash FROM audit_events WHERE seq = 9)")
            }
        default: break
        }
        let result = try store.write { tx in try tx.checkedEvents(after: 3, resumedPick, resuming: before) }
        switch variant {
        case "appended": #expect(result.problem == nil && result.events.map(\.seq) == [5, 9, 11, 12, 13, 14] && result.through?.seq == 14)
        case "another pick": #expect(result.problem == nil && result.events.map(\.seq) == [5, 9], "walked again from the start")
        case "its last event rewritten": #expect(result.problem?.contains("event 10") == true, "\(result.problem ?? "no problem")")
        default: #expect(result.problem == "event 10 is not in the log")
        }
    }

    @Test("an intact stretch gives the picked events after the first, by tenant, model, decision and approver", arguments: TestStores.kinds, [
        (EventPick.writes(tenant: "acme", model: "Order", decisions: ["executed"]), [5, 9] as [Int64]),
        (.writes(tenant: "acme", model: "Order", decisions: ["executed", "rolled_back"]), [5, 7, 9]),
        (.writes(tenant: "acme", model: "Customer", decisions: ["executed"]), []),
        (.writes(tenant: "globex", model: "Order", decisions: ["executed"]), [4, 6, 8, 10]),
        (.namingAnApprover(tenant: "acme"), [5, 9]),
        (.namingAnApprover(tenant: "globex"), []),
    ])
    func picks(kind: StoreKind, _ test: (EventPick, [Int64])) throws {
        let store = try Self.store(kind)
        let result = try Self.picked(store, after: 3, test.0)
        #expect(result.problem == nil)
        #expect(result.events.map(\.seq) == test.1)
        #expect(result.events.allSatisfy(test.0.picks))
    }

    @Test("an edit, deletion or swap from the first event to the head refuses the stretch; one before it does not", arguments: TestStores.kinds,
          HashChainTests.Tamper.allCases)
    func tamperingRefuses(kind: StoreKind, _ tamper: HashChainTests.Tamper) throws {
        let store = try Self.store(kind)
        try store.write { tx in try HashChainTests.tamper(tx.sql, tamper, at: 5, count: 10) }
        let result = try Self.picked(store, after: 3, .namingAnApprover(tenant: "acme"))
        #expect(result.problem != nil, "\(tamper) after the first event went unnoticed")
        #expect(result.events.isEmpty)
        if tamper != .deleteLast {
            let before = try Self.store(kind)
            try before.write { tx in try HashChainTests.tamper(tx.sql, tamper, at: 1, count: 10) }
            #expect(try Self.picked(before, after: 4, .namingAnApprover(tenant: "acme")).problem == nil, "only the stretch is checked")
        }
    }

    @Test("a column edited to hide the event that matters (approver, tenant, decision, model) is caught, not skipped", arguments: [
        "UPDATE audit_events SET approver = NULL WHERE seq = 5",
        "UPDATE audit_events SET tenant = 'initech' WHERE seq = 5",
        "UPDATE audit_events SET decision = 'refused' WHERE seq = 5",
        "UPDATE audit_events SET model = 'Customer' WHERE seq = 5",
        "UPDATE audit_events SET ts_ms = 0 WHERE seq = 5",
    ])
    func hidingColumnIsCaught(edit: String) throws {
        let store = try Self.store(.sqlite)
        try store.write { tx in try tx.sql.execute(edit) }
        let result = try Self.picked(store, after: 3, .writes(tenant: "acme", model: "Order", decisions: ["executed"]))
        #expect(result.problem?.contains("event 5") == true, "\(result.problem ?? "no problem") for \(edit)")
        #expect(result.events.isEmpty)
    }

    @Test("with an anchor, a tail deleted with the head moved back (a chain that still holds) is caught; an intact log, or one grown since, is not",
          arguments: ["intact", "grown", "tail deleted", "anchored row rewritten", "signed from elsewhere"])
    func anchored(variant: String) throws {
        let store = try Self.store(.sqlite)
        let head = try store.head()
        var anchor = ChainAnchor(seq: head.seq, hash: head.hash, time: "2026-11-30T09:00:00Z")
        switch variant {
        case "grown": try store.append([sampleEvent(11)])
        case "tail deleted":
            try store.write { tx in
                try tx.sql.execute("DELETE FROM audit_events WHERE seq > 8")
                try tx.sql.execute("UPDATE chain_head SET seq = 8, hash = (SELECT hash FROM audit_events WHERE seq = 8)")
            }
        case "anchored row rewritten":
            try Self.rewrite(store, from: 9) { seq, body in seq == 9 ? body.replacingOccurrences(of: "shipped", with: "cancelled") : body }
        case "signed from elsewhere": anchor.keyedFrom = 4
        default: break
        }
        store.anchor = anchor
        let outside = try store.checkedEvents(after: 3, .namingAnApprover(tenant: "acme"))
        let inside = try Self.picked(store, after: 3, .namingAnApprover(tenant: "acme"))
        let holds = variant == "intact" || variant == "grown"
        #expect((outside.problem == nil) == holds && (inside.problem == nil) == holds, "\(outside.problem ?? "-") / \(inside.problem ?? "-")")
        if variant == "tail deleted" { #expect(inside.problem?.contains("events were removed from its end") == true) }
    }

    @Test("behind approvals and rollbacks, an anchor of a signed chain holds only with its signature (helper-72: one taken out was accepted there)",
          arguments: [true, false])
    func signedAnchor(stripped: Bool) throws {
        let key = ChainKey("a long random secret kept in the team's vault")
        let store = try Self.store(.sqlite, key: key)
        var anchor = try store.anchor()
        #expect(anchor.mac != nil && anchor.keyedFrom != nil)
        if stripped { anchor.mac = nil }
        store.anchor = anchor
        let outside = try store.checkedEvents(after: 3, .namingAnApprover(tenant: "acme"))
        let inside = try Self.picked(store, after: 3, .namingAnApprover(tenant: "acme"))
        for problem in [outside.problem, inside.problem] {
            #expect(stripped ? problem?.contains("carries no signature") == true : problem == nil, "\(problem ?? "-")")
        }
        #expect((try store.verify(key: key, anchor: anchor).firstBreak == nil) == !stripped)
    }

    @Test("on a signed chain, the records of its signing removed or moved do not switch the signatures off", arguments: [
        "DELETE FROM store_meta WHERE key = 'chain_key_from'",
        "DELETE FROM store_meta WHERE key IN ('chain_key_from', 'chain_key_from_mac')",
        "UPDATE store_meta SET value = '999999' WHERE key = 'chain_key_from'",
        "UPDATE store_meta SET value = '11' WHERE key = 'chain_key_from'",
    ])
    func signingRecords(edit: String) throws {
        let key = ChainKey("a chain key of at least thirty-two characters")
        let store = try Self.store(.sqlite, key: key)
        try store.write { tx in try tx.sql.execute(edit) }
        // Refused either way: a keyed writer that reads the records writes nothing, or the walk finds them broken.
        do {
            let result = try Self.picked(try AuditStore(path: store.path, chainKey: key), after: 3, .namingAnApprover(tenant: "acme"))
            #expect(result.problem != nil && result.events.isEmpty, "\(edit)")
        } catch let error as StoreError {
            #expect("\(error)".contains("nothing was written"), "\(error)")
        }
    }

    @Test("a key given to a store whose key record was removed, while signed rows or a mark remain, writes nothing (it would sign anew from the head)")
    func keyRecordRemoved() throws {
        let key = ChainKey("a chain key of at least thirty-two characters")
        let store = try Self.store(.sqlite, key: key)
        try store.write { tx in try tx.sql.execute("DELETE FROM store_meta WHERE key IN ('chain_key_id', 'chain_key_from', 'chain_key_from_mac')") }
        let reopened = try AuditStore(path: store.path, chainKey: key)
        #expect(throws: StoreError.self) { try reopened.append([sampleEvent(11)]) }
        #expect(try reopened.head().seq == 10)
        // An unsigned store starts to sign from its head on.
        let plain = try Self.store(.sqlite)
        try AuditStore(path: plain.path, chainKey: key).append([sampleEvent(11)])
        #expect(try plain.chainKeyedFrom() == 11)
    }

    @Test("on a signed chain, a row rewritten without the key (hash and link recomputed to the head) is caught by its signature")
    func signedChain() throws {
        let key = ChainKey("a chain key of at least thirty-two characters")
        let store = try Self.store(.sqlite, key: key)
        #expect(try Self.picked(store, after: 3, .namingAnApprover(tenant: "acme")).events.map(\.seq) == [5, 9])
        // Event 5 loses its approver; every hash from it to the head is recomputed, the head moved along.
        try Self.rewrite(store, from: 5) { seq, body in seq == 5 ? body.replacingOccurrences(of: #""approver":"dev.patel","#, with: "") : body }
        let store2 = try AuditStore(path: store.path, chainKey: key)
        let result = try Self.picked(store2, after: 3, .namingAnApprover(tenant: "acme"))
        #expect(result.problem?.contains("signature") == true, "\(result.problem ?? "no problem")")
    }
}
