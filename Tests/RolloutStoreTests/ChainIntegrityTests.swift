import Foundation
import PropertyBased
import RolloutCore
import RolloutTestSupport
import Testing

@testable import RolloutStore

/// A change someone with write access to the store file could make to one row.
enum RowTamper: Sendable, CaseIterable, CustomTestStringConvertible {
    case column(String)
    case deleteRow, deleteLast, swapRows, editBody, editAndRehash

    /// Every column of an audit row: each one a report, a gate or the scorer reads.
    static let columns = ["ts", "ts_ms", "tenant", "actor", "session", "tool", "model", "operation", "row_count", "decision", "approver",
                          "idempotency_key", "reason", "effect", "shape", "form"]
    static let allCases: [RowTamper] = columns.map(RowTamper.column) + [.deleteRow, .deleteLast, .swapRows, .editBody, .editAndRehash]

    var testDescription: String {
        if case .column(let name) = self { return "edit column \(name)" }
        return "\(self)"
    }

    /// The problem verify must name for it, done to row `k` of `count`.
    func problem(at k: Int64, count: Int64) -> ChainVerification.Problem {
        switch self {
        case .column: .columnEdited
        case .deleteRow: k == count ? .headMismatch : .missing
        case .deleteLast: .headMismatch
        case .swapRows: .brokenLink
        case .editBody: .edited
        // The careful attacker's row hashes again, but its derived columns (the effect) disagree with the new body.
        case .editAndRehash: .columnEdited
        }
    }

    func apply(_ sql: any SQLConnection, at k: Int64, count: Int64) throws {
        switch self {
        case .column(let name):
            let value: SQLValue = switch name {
            case "ts_ms", "row_count": .int(7)
            case "form": .int(9)
            case "ts": .text("2026-01-01T00:00:00.000Z")
            default: .text("edited")
            }
            try sql.execute("UPDATE audit_events SET \(name) = ? WHERE seq = ?", [value, .int(k)])
        case .deleteRow:
            try sql.execute("DELETE FROM audit_events WHERE seq = ?", [.int(k)])
        case .deleteLast:
            try sql.execute("DELETE FROM audit_events WHERE seq = ?", [.int(count)])
        case .swapRows:
            let other = k == count ? k - 1 : k + 1
            try sql.execute("UPDATE audit_events SET seq = -1 WHERE seq = ?", [.int(k)])
            try sql.execute("UPDATE audit_events SET seq = ? WHERE seq = ?", [.int(k), .int(other)])
            try sql.execute("UPDATE audit_events SET seq = ? WHERE seq = -1", [.int(other)])
        case .editBody:
            try sql.execute("UPDATE audit_events SET body = replace(body, 'shipped', 'cancelled') WHERE seq = ?", [.int(k)])
        case .editAndRehash:
            let row = try sql.queryOne("SELECT body, prev_hash FROM audit_events WHERE seq = ?", [.int(k)])!
            let body = row.string("body").replacingOccurrences(of: "shipped", with: "cancelled")
            try sql.execute("UPDATE audit_events SET body = ?, hash = ? WHERE seq = ?",
                            [.text(body), .text(HashChain.hash(previous: row.string("prev_hash"), body: body)), .int(k)])
        }
    }
}

/// Events with every column filled, so that an edit of any column changes a value the body holds.
func fullEvent(_ i: Int) -> AuditEvent {
    var event = sampleEvent(i)
    event.approver = "maria.lopez"
    event.session = "s-\(i)"
    return event
}

@Suite("Store: chain integrity, anchors and signatures")
struct ChainIntegrityTests {
    @Test("any single edit, delete, reorder or column change of a random row is detected and named (property)", arguments: TestStores.kinds)
    func everyTamperingNamed(kind: StoreKind) async throws {
        await propertyCheck(count: kind == .postgres ? 20 : 120, input: Gen.int(in: 1...12), Gen<Int>.int(in: 0...(RowTamper.allCases.count - 1))) { k, which in
            let tamper = RowTamper.allCases[which]
            let store = try TestStores.make(kind)
            try store.append((1...12).map(fullEvent))
            try store.write { tx in try tamper.apply(tx.sql, at: Int64(k), count: 12) }
            let result = try store.verify()
            #expect(result.firstBreak?.problem == tamper.problem(at: Int64(k), count: 12), "\(tamper.testDescription) at \(k): \(String(describing: result.firstBreak))")
            if case .column(let name) = tamper { #expect(result.firstBreak?.detail.contains(name) == true, "the column is named") }
        }
    }

    @Test("rows checked in parallel batches: the first break is the one reported, wherever it falls in a batch", arguments: [
        (RowTamper.column("ts"), Int64(4096)), (.column("tenant"), 4097), (.editBody, 9000), (.deleteRow, 4097), (.swapRows, 4200),
        (.editAndRehash, 8193),
    ])
    func batches(tamper: RowTamper, at seq: Int64) throws {
        let store = try TestStores.make(.sqlite)
        try store.append((1...9100).map(fullEvent))
        #expect(try store.verify().ok && store.verify().checked == 9100)
        try store.write { tx in try tamper.apply(tx.sql, at: seq, count: 9100) }
        // A second, later break must not hide the first.
        try store.write { tx in try RowTamper.column("ts").apply(tx.sql, at: 9050, count: 9100) }
        // One connection reads and checks in batches (as on PostgreSQL).
        let result = try store.verify(key: nil, anchor: nil, progress: nil, reading: .oneConnection)
        #expect(result.firstBreak?.problem == tamper.problem(at: seq, count: 9100), "\(tamper.testDescription) at \(seq): \(String(describing: result.firstBreak))")
        #expect(result.firstBreak?.seq ?? 0 <= seq + 1)
    }

    /// Changes that fall across ranges, or outside them, for the ranged reading.
    static let rangeTampers: [(name: String, sql: [String])] = [
        ("a whole range deleted", ["DELETE FROM audit_events WHERE seq BETWEEN 8 AND 14"]),
        ("two ranges' edges deleted", ["DELETE FROM audit_events WHERE seq BETWEEN 7 AND 8"]),
        ("a row past the recorded head", ["UPDATE chain_head SET seq = 19, hash = (SELECT hash FROM audit_events WHERE seq = 19) WHERE id = 1"]),
        ("a row before event 1", ["UPDATE audit_events SET seq = 0 WHERE seq = 1"]),
        ("the head moved back past a range", ["UPDATE chain_head SET seq = 13, hash = (SELECT hash FROM audit_events WHERE seq = 13) WHERE id = 1"]),
        ("a range's rows swapped with the next range's", ["UPDATE audit_events SET seq = -7 WHERE seq = 7", "UPDATE audit_events SET seq = 7 WHERE seq = 8",
                                                          "UPDATE audit_events SET seq = 8 WHERE seq = -7"]),
        // Found by an adversarial review: rows no range bound reaches, and heads that made ranges endless.
        ("a forged row at the lowest seq", ["INSERT INTO audit_events SELECT -9223372036854775808, \(otherColumns) FROM audit_events WHERE seq = 1"]),
        ("a forged row at the highest seq", ["INSERT INTO audit_events SELECT 9223372036854775807, \(otherColumns) FROM audit_events WHERE seq = 20"]),
        ("a forged row whose seq is null (the table rebuilt without its key)", rebuiltWithoutKey + [
            "INSERT INTO audit_events SELECT NULL, \(otherColumns) FROM audit_events WHERE seq = 1"]),
        ("a forged row whose seq is text (the table rebuilt without its key)", rebuiltWithoutKey + [
            "INSERT INTO audit_events SELECT 'x', \(otherColumns) FROM audit_events WHERE seq = 1"]),
        ("the head at the largest seq", ["UPDATE chain_head SET seq = 9223372036854775807 WHERE id = 1"]),
        ("the head at a trillion", ["UPDATE chain_head SET seq = 1000000000000 WHERE id = 1"]),
        ("the head before event 1", ["UPDATE chain_head SET seq = 0 WHERE id = 1"]),
    ]

    /// Every column of audit_events after seq, in order.
    static let otherColumns = "ts, ts_ms, tenant, actor, session, tool, model, operation, row_count, decision, approver, idempotency_key, reason, effect, shape, body, prev_hash, hash, form, mac"
    /// audit_events made again without its primary key, so that seq takes any value.
    static let rebuiltWithoutKey = ["ALTER TABLE audit_events RENAME TO audit_events_old", "CREATE TABLE audit_events AS SELECT * FROM audit_events_old",
                                    "DROP TABLE audit_events_old"]

    @Test("ranges read on twin connections find the break one connection finds (same event, problem, detail and count), at and around every range edge",
          arguments: RowTamper.allCases)
    func rangesFindWhatOneConnectionFinds(tamper: RowTamper) throws {
        for k: Int64 in [1, 6, 7, 8, 14, 15, 19, 20] {
            let store = try TestStores.make(.sqlite)
            try store.append((1...20).map(fullEvent))
            try store.write { tx in try tamper.apply(tx.sql, at: k, count: 20) }
            let ranged = try store.verify(key: nil, anchor: nil, progress: nil, reading: .twins(rangeSize: 7))
            let single = try store.verify(key: nil, anchor: nil, progress: nil, reading: .oneConnection)
            #expect(ranged.firstBreak?.problem == tamper.problem(at: k, count: 20), "\(tamper.testDescription) at \(k): \(String(describing: ranged.firstBreak))")
            #expect(Self.same(ranged, single), "\(tamper.testDescription) at \(k): ranged \(String(describing: ranged.firstBreak)), one connection \(String(describing: single.firstBreak))")
        }
    }

    @Test("ranges find what one connection finds: a range deleted, rows past the head or before event 1, the head moved back, rows swapped across an edge",
          arguments: rangeTampers.indices)
    func rangeEdges(which: Int) throws {
        let tamper = Self.rangeTampers[which]
        let store = try TestStores.make(.sqlite)
        try store.append((1...20).map(fullEvent))
        try store.write { tx in for statement in tamper.sql { try tx.sql.execute(statement) } }
        let ranged = try store.verify(key: nil, anchor: nil, progress: nil, reading: .twins(rangeSize: 7))
        let single = try store.verify(key: nil, anchor: nil, progress: nil, reading: .oneConnection)
        #expect(!ranged.ok, "\(tamper.name) is found")
        #expect(Self.same(ranged, single), "\(tamper.name): ranged \(String(describing: ranged.firstBreak)), one connection \(String(describing: single.firstBreak))")
    }

    @Test("rows read in place agree with rows read as strings on bytes beyond ASCII: a valid non-ASCII log holds, invalid UTF-8 breaks however it is rehashed",
          arguments: [(false, false), (true, false), (true, true)])
    func inPlaceBytes(invalid: Bool, hashedRepaired: Bool) throws {
        let store = try TestStores.make(.sqlite)
        var events = (1...20).map(fullEvent)
        events[4].reason = "Zürich → São Paulo, 東京 ✓"
        events[9].actor = "agent-ü"
        // A member no column repeats, in the last event: only its hash can tell its bytes.
        events[19].message = "upstream said QQQ"
        try store.append(events)
        if invalid {
            // A forger writes bytes that are not UTF-8 and hashes them as they are.
            try store.write { tx in
                let row = try #require(try tx.sql.queryOne("SELECT body, prev_hash FROM audit_events WHERE seq = 20", []))
                var body = Array(row.string("body").utf8)
                let at = try #require(body.firstIndex(of: UInt8(ascii: "Q")))
                body[at] = 0xFF
                // Hashed as stored, or as the repaired text a reader that decodes it would see: the hash
                // covers the stored bytes, so both break. The head moves with it.
                let hashed = hashedRepaired ? Array(String(decoding: body, as: UTF8.self).utf8) : body
                let hash = HashChain.hash(previous: row.string("prev_hash"), body: hashed)
                try tx.sql.execute("UPDATE audit_events SET body = ?, hash = ? WHERE seq = 20", [.bytes(body), .text(hash)])
                try tx.sql.execute("UPDATE chain_head SET hash = ? WHERE id = 1", [.text(hash)])
            }
        }
        let ranged = try store.verify(key: nil, anchor: nil, progress: nil, reading: .twins(rangeSize: 7))
        let single = try store.verify(key: nil, anchor: nil, progress: nil, reading: .oneConnection)
        #expect(ranged.ok == !invalid, "\(String(describing: ranged.firstBreak))")
        #expect(Self.same(ranged, single), "ranged \(String(describing: ranged.firstBreak)), one connection \(String(describing: single.firstBreak))")
    }

    @Test("events appended while the chain is verified in ranges: every verification holds (the twins read later snapshots)")
    func appendsWhileVerifying() async throws {
        let store = try TestStores.make(.sqlite)
        try store.append((1...300).map(fullEvent))
        let writer = Task.detached {
            for i in 301...700 { try store.append([fullEvent(i)]) }
        }
        var verified = 0
        while verified < 30 {
            let result = try store.verify(key: nil, anchor: nil, progress: nil, reading: .twins(rangeSize: 16))
            #expect(result.ok, "\(String(describing: result.firstBreak))")
            verified += 1
        }
        try await writer.value
        #expect(try store.verify().checked == 700)
    }

    @Test("progress is reported at every 100k events the ranged reading joins")
    func progressMarks() {
        var walk = ChainWalk()
        var marks: [Int] = []
        walk.progress = { marks.append($0) }
        var run = ChainRun(anchorSeq: nil)
        run.count = 250_000
        run.last = ChainHead(seq: 250_000, hash: "h")
        #expect(walk.join(run) == nil)
        var next = ChainRun(anchorSeq: nil)
        next.first = (250_001, "h")
        next.count = 50_000
        #expect(walk.join(next) == nil)
        #expect(marks == [100_000, 200_000, 300_000])
    }

    static func same(_ a: ChainVerification, _ b: ChainVerification) -> Bool {
        a.checked == b.checked && a.firstBreak?.seq == b.firstBreak?.seq && a.firstBreak?.problem == b.firstBreak?.problem
            && a.firstBreak?.detail == b.firstBreak?.detail
    }

    @Test("an anchor catches a tail deleted with the head moved back, and a log replaced by a recomputed one", arguments: TestStores.kinds)
    func anchors(kind: StoreKind) throws {
        let store = try TestStores.make(kind)
        try store.append((1...10).map(fullEvent))
        let anchor = try store.anchor(at: Date(timeIntervalSince1970: 1_764_000_100))
        #expect(try store.verify(anchor: anchor).ok)
        // The careful attacker: deletes the last three events and moves the head back. Verify alone passes.
        try store.write { tx in
            try tx.sql.execute("DELETE FROM audit_events WHERE seq > 7")
            let head = try tx.sql.queryOne("SELECT seq, hash FROM audit_events WHERE seq = 7")!
            try tx.sql.execute("UPDATE chain_head SET seq = ?, hash = ? WHERE id = 1", [head["seq"], head["hash"]])
        }
        #expect(try store.verify().ok, "without an anchor nothing outside the store says the log was longer")
        let cut = try store.verify(anchor: anchor)
        #expect(cut.firstBreak?.problem == .anchor && cut.firstBreak?.detail.contains("removed") == true, "\(String(describing: cut.firstBreak))")

        // A replaced log: same length, every hash recomputed from an edited history.
        let other = try TestStores.make(kind)
        var forged = (1...10).map(fullEvent)
        forged[2].reason = "a reason written afterwards"
        try other.append(forged)
        let replaced = try other.verify(anchor: anchor)
        #expect(replaced.firstBreak?.problem == .anchor, "\(String(describing: replaced.firstBreak))")
        // The anchor file round-trips, and a damaged one is bad input naming its field.
        let path = TestPaths.temporaryDirectory().appendingPathComponent("anchor.json").path
        try Data(anchor.json.prettyText().utf8).write(to: URL(fileURLWithPath: path))
        #expect(try ChainAnchor.read(path: path) == anchor)
        try Data(#"{"format": "rollout-chain-anchor/1", "seq": 3, "hash": "x", "time": "2026-11-28T00:00:00Z"}"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: StoreError.self) { try ChainAnchor.read(path: path) }
    }

    @Test("with ROLLOUT_CHAIN_KEY, a forged tail with recomputed hashes fails, and so does a writer without the key")
    func signedChain() throws {
        let key = ChainKey("correct horse battery staple")
        let path = TestPaths.scratchFile("signed") + ".sqlite"
        let store = try AuditStore(path: path, chainKey: key)
        try store.append((1...5).map(fullEvent))
        #expect(try store.verify(key: key).ok && store.verify(key: key).signaturesChecked)
        #expect(try store.verify(key: ChainKey("another key")).firstBreak?.problem == .signature)
        // A writer without the key, or with another, is refused: nothing is written.
        #expect(throws: StoreError.self) { try AuditStore(path: path, chainKey: nil).append([fullEvent(6)]) }
        #expect(throws: StoreError.self) { try AuditStore(path: path, chainKey: ChainKey("another key")).append([fullEvent(6)]) }
        #expect(try store.head().seq == 5)
        // The forger appends a row with a correct hash and moves the head: the hash chain holds, the signature does not.
        try store.write { tx in
            let head = try tx.sql.queryOne("SELECT hash FROM audit_events WHERE seq = 5")!
            var event = fullEvent(6)
            event.seq = 6
            let body = String(decoding: event.canonicalBytes, as: UTF8.self)
            let hash = HashChain.hash(previous: head.string("hash"), body: body)
            try tx.sql.execute("""
                INSERT INTO audit_events (seq, ts, ts_ms, tenant, actor, session, tool, model, operation, row_count, decision, approver,
                    idempotency_key, reason, effect, shape, body, prev_hash, hash, form)
                VALUES (6, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 2)
                """, [.text(Timestamp.format(event.ts)), .int(Int64((event.ts.timeIntervalSince1970 * 1000).rounded(.down))), .text(event.tenant),
                      .text(event.actor), SQLValue(event.session), .text(event.tool), SQLValue(event.model), SQLValue(event.operation),
                      SQLValue(event.rowCount), .text(event.decision), SQLValue(event.approver), SQLValue(event.idempotencyKey), SQLValue(event.reason),
                      SQLValue(event.effectKey), SQLValue(event.shape), .text(body), head["hash"], .text(hash)])
            try tx.sql.execute("UPDATE chain_head SET seq = 6, hash = ? WHERE id = 1", [.text(hash)])
        }
        // The hash chain alone cannot tell, so a signed chain is not called intact without its key.
        let unkeyed = try store.verify()
        #expect(unkeyed.firstBreak?.problem == .keyMissing && unkeyed.checked == 0, "\(String(describing: unkeyed.firstBreak))")
        let signed = try store.verify(key: key)
        #expect(signed.firstBreak?.problem == .signature && signed.firstBreak?.seq == 6, "\(String(describing: signed.firstBreak))")
    }

    @Test("the mark where signing starts cannot be moved past the head to switch signatures off (found by an adversarial review)")
    func signingMarkMoved() throws {
        let key = ChainKey("correct horse battery staple")
        let store = try AuditStore(path: TestPaths.scratchFile("mark") + ".sqlite", chainKey: key)
        try store.append((1...5).map(fullEvent))
        try TestStores.edit(store.path, "UPDATE store_meta SET value = '11' WHERE key = 'chain_key_from'")
        let moved = try store.verify(key: key)
        #expect(moved.firstBreak?.problem == .signature && moved.firstBreak?.seq == 11, "\(String(describing: moved.firstBreak))")
        // Just past the head no row would be checked, so a chain rewritten without the key (hashes recomputed,
        // signatures dropped) would pass: the mark carries the key's signature, so moving it is a break, and
        // so is dropping that signature too.
        try TestStores.edit(store.path, "UPDATE store_meta SET value = '6' WHERE key = 'chain_key_from'")
        let justPast = try store.verify(key: key)
        #expect(justPast.firstBreak?.problem == .signature && justPast.firstBreak?.seq == 6, "\(String(describing: justPast.firstBreak))")
        try TestStores.edit(store.path, "DELETE FROM store_meta WHERE key = 'chain_key_from_mac'")
        let unsigned = try store.verify(key: key)
        #expect(unsigned.firstBreak?.problem == .signature && unsigned.firstBreak?.seq == 6, "\(String(describing: unsigned.firstBreak))")
        // With the mark where it was, every row is checked again, with or without the mark's signature.
        try TestStores.edit(store.path, "UPDATE store_meta SET value = '1' WHERE key = 'chain_key_from'")
        let restored = try store.verify(key: key)
        #expect(restored.ok && restored.signaturesChecked)
    }

    struct Thrown: Error {}

    @Test("an earlier rollout's unsigned mark, signed by a write that then threw, is signed again by the next write: the check's memory waits for the commit (review 32)")
    func legacyMarkAfterRolledBackWrite() throws {
        let path = TestPaths.scratchFile("legacy-mark") + ".sqlite"
        let key = ChainKey("correct horse battery staple")
        try AuditStore(path: path, chainKey: nil).append([fullEvent(1), fullEvent(2)])
        // As an earlier rollout marked a store: its key and where signing starts (past the head), no signature.
        try TestStores.edit(path, "INSERT INTO store_meta (key, value) VALUES ('chain_key_id', '\(key.id)'), ('chain_key_from', '3')")
        let store = try AuditStore(path: path, chainKey: key)
        #expect(throws: Thrown.self) { try store.write { _ in throw Thrown() } }
        try store.append([fullEvent(3)])
        #expect(try store.head().seq == 3)
        let check = try store.verify(key: key)
        #expect(check.ok && check.signaturesChecked, "\(String(describing: check.firstBreak))")
    }

    @Test("a writer without the key stops once another process has signed the chain (found by an adversarial review)")
    func keylessWriterAfterSigning() throws {
        let path = TestPaths.scratchFile("late-key") + ".sqlite"
        let keyless = try AuditStore(path: path, chainKey: nil)
        try keyless.append([fullEvent(1)])
        let key = ChainKey("correct horse battery staple")
        try AuditStore(path: path, chainKey: key).append([fullEvent(2)])
        #expect(throws: StoreError.self) { try keyless.append([fullEvent(3)]) }
        #expect(try keyless.head().seq == 2)
        #expect(try keyless.verify(key: key).ok)
    }

    @Test("a column that holds the body's value in another type or Unicode form is an edit (found by an adversarial review)", arguments: [
        "UPDATE audit_events SET tenant = CAST(tenant AS BLOB) WHERE seq = 2",
        "UPDATE audit_events SET decision = CAST(decision AS BLOB) WHERE seq = 3",
        "UPDATE audit_events SET ts_ms = ts_ms + 0.9 WHERE seq = 4",
        "UPDATE audit_events SET form = 1.5 WHERE seq = 4",
        "UPDATE audit_events SET effect = CAST(effect AS BLOB) WHERE seq = 5",
        "NFD",
    ])
    func retypedColumns(edit: String) throws {
        let store = try TestStores.make(.sqlite)
        var events = (1...8).map(fullEvent)
        events[6].reason = "Zürich"
        try store.append(events)
        try store.write { tx in
            if edit == "NFD" {
                try tx.sql.execute("UPDATE audit_events SET reason = ? WHERE seq = 7", [.text("Zürich".decomposedStringWithCanonicalMapping)])
            } else {
                try tx.sql.execute(edit)
            }
        }
        let ranged = try store.verify(key: nil, anchor: nil, progress: nil, reading: .twins(rangeSize: 3))
        let single = try store.verify(key: nil, anchor: nil, progress: nil, reading: .oneConnection)
        #expect(ranged.firstBreak?.problem == .columnEdited, "\(edit): \(String(describing: ranged.firstBreak))")
        #expect(Self.same(ranged, single), "ranged \(String(describing: ranged.firstBreak)), one connection \(String(describing: single.firstBreak))")
    }

    @Test("a store written by the first version (form 1 bodies, schema v1) verifies, migrated or read-only")
    func firstVersionStoreVerifies() throws {
        let path = try TestStores.firstVersionStore("v1")
        let readOnly = try AuditStore(path: path, create: false, chainKey: nil, readOnly: true)
        let before = try readOnly.verify()
        #expect(before.ok && before.checked == 7, "\(String(describing: before.firstBreak))")
        let migrated = try AuditStore(path: path, chainKey: nil)
        #expect(try migrated.verify().ok)
        // New events continue the old chain, in the new form; the old rows keep theirs.
        try migrated.append([fullEvent(8)])
        let after = try migrated.verify()
        #expect(after.ok && after.checked == 8)
        let forms = try migrated.read { sql in try sql.query("SELECT form FROM audit_events ORDER BY seq").map { Int($0.int(0)) } }
        #expect(forms == Array(repeating: 1, count: 7) + [2])
        // The imported record's number and key order differ between the forms: the old bytes still verify.
        let body = try migrated.read { sql in try sql.scalar("SELECT body FROM audit_events WHERE seq = 6")?.string } ?? ""
        #expect(body.contains("1.5e-07") || body.contains("1e+21"), "the first form wrote Swift's number text: \(body.prefix(200))")
    }

    @Test("four processes opening one new store at once: every one succeeds, one chain")
    func concurrentFirstOpen() throws {
        let path = TestPaths.temporaryDirectory("first-open").appendingPathComponent("new.sqlite").path
        let group = DispatchGroup()
        let errors = ErrorList()
        for i in 0..<4 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                do {
                    let store = try AuditStore(path: path, chainKey: nil)
                    try store.append([fullEvent(i + 1)])
                } catch {
                    errors.add("\(error)")
                }
            }
        }
        group.wait()
        #expect(errors.all.isEmpty, "\(errors.all)")
        let check = try AuditStore(path: path, chainKey: nil).verify()
        #expect(check.ok && check.checked == 4)
    }
}

final class ErrorList: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ s: String) { lock.withLock { items.append(s) } }
    var all: [String] { lock.withLock { items } }
}

@Suite("Canonical JSON: RFC 8785")
struct CanonicalJSONTests {
    static let vectors: [JSONValue] = [
        ["b": 1e21, "a": [1.5e-7, 0.1, 1.2345678901234568e20, 1e-7, .number(.leastNonzeroMagnitude), 1.7976931348623157e308, -0.0, 333333333.3333333, 1e20, 4.5]],
        ["€": 1, "\u{1F600}": 2, "\u{FB01}": 3, "a": 4, "\u{E000}": 5, "10": 6, "1": 7],
        ["text": "line\nbreak \"quoted\" \\ tab\t \u{7F} \u{2028} \u{0001} é e\u{301}"],
        [1, true, false, .null, "x", [], [:], [["nested": ["deep": [1, 2, 3]]]]],
        [-1e-7, 0.000001, 1e-6, 123e-20, 9007199254740992.0, -9007199254740992, 1e300, 2.5e-8],
    ]

    @Test("rollout's canonical bytes equal PyPI jcs's, the independent RFC 8785 implementation", .enabled(if: JCSPeer.available, JCSPeer.skipMessage))
    func matchesPeer() throws {
        let input = TestPaths.temporaryDirectory().appendingPathComponent("vectors.json").path
        try Data(JSONValue.array(Self.vectors).prettyText().utf8).write(to: URL(fileURLWithPath: input))
        let result = try Subprocess.run(["python3", "-c", """
            import jcs, json, sys
            for v in json.load(open(sys.argv[1])):
                sys.stdout.write(jcs.canonicalize(v).hex() + "\\n")
            """, input])
        #expect(result.status == 0, "\(result.stderr)")
        let theirs = result.stdout.split(separator: "\n").map(String.init)
        #expect(theirs.count == Self.vectors.count)
        for (value, hex) in zip(Self.vectors, theirs) {
            #expect(value.canonicalBytes.hexString == hex, "ours: \(value.canonicalText)")
        }
    }

    @Test("numbers print as ECMAScript prints them", arguments: [
        (1e21, "1e+21"), (1e20, "100000000000000000000"), (1.5e-7, "1.5e-7"), (0.000001, "0.000001"), (1e-7, "1e-7"),
        (-0.0, "0"), (123.456, "123.456"), (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"), (0.1, "0.1"),
    ])
    func numbers(value: Double, text: String) {
        #expect(JSONValue.formatNumber(value) == text)
    }
}

/// PyPI `jcs` (an RFC 8785 implementation), installed by `.ci/run`.
enum JCSPeer {
    static var available: Bool { (try? Subprocess.run(["python3", "-c", "import jcs"]).status) == 0 }
    static let skipMessage: Comment = "PyPI jcs is missing: .ci/run installs it"
}

@Suite("A signed chain stays signed: its rows' signatures speak when the store's records of them were removed or moved")
struct SignedRowTests {
    static func signedStore() throws -> (AuditStore, String, ChainKey) {
        let key = ChainKey("correct horse battery staple")
        let path = TestPaths.scratchFile("signed-rows") + ".sqlite"
        let store = try AuditStore(path: path, chainKey: key)
        try store.append((1...4).map(fullEvent))
        return (store, path, key)
    }

    @Test("verified without the key, a chain whose rows are signed is key_missing, even with every record of its key removed")
    func keyRecordsRemoved() throws {
        let (store, path, _) = try Self.signedStore()
        try store.write { tx in try tx.sql.execute("DELETE FROM store_meta WHERE key LIKE 'chain_key%'") }
        let unkeyed = try AuditStore(path: path, chainKey: nil).verify()
        #expect(unkeyed.firstBreak?.problem == .keyMissing, "\(String(describing: unkeyed.firstBreak))")
    }

    @Test("a signing mark moved later with its signature removed: rows signed before it fail verify with the key, and no keyed writer signs over it")
    func markMovedAndUnsigned() throws {
        let (store, path, key) = try Self.signedStore()
        try store.write { tx in
            try tx.sql.execute("UPDATE store_meta SET value = '4' WHERE key = 'chain_key_from'")
            try tx.sql.execute("DELETE FROM store_meta WHERE key = 'chain_key_from_mac'")
        }
        let keyed = try AuditStore(path: path, chainKey: key)
        let verdict = try keyed.verify(key: key)
        #expect(verdict.firstBreak?.problem == .signature && verdict.firstBreak?.seq == 1, "\(String(describing: verdict.firstBreak))")
        // Moved past the head (where a forged unsigned row would sit below it), it is not signed over.
        try store.write { tx in try tx.sql.execute("UPDATE store_meta SET value = '5' WHERE key = 'chain_key_from'") }
        #expect(throws: StoreError.self) { try AuditStore(path: path, chainKey: key).append([fullEvent(5)]) }
        #expect(try keyed.head().seq == 4, "nothing was written")
    }

    @Test("a writer already running with the key checks the key's records again when they change: it does not sign over a moved mark")
    func runningWriterRechecks() throws {
        let (store, path, key) = try Self.signedStore()
        let running = try AuditStore(path: path, chainKey: key)
        try running.append([fullEvent(5)])
        // Without the key: every signature cleared, the mark moved just past the head, its signature deleted.
        try store.write { tx in
            try tx.sql.execute("UPDATE audit_events SET mac = NULL")
            try tx.sql.execute("UPDATE store_meta SET value = '6' WHERE key = 'chain_key_from'")
            try tx.sql.execute("DELETE FROM store_meta WHERE key = 'chain_key_from_mac'")
        }
        #expect(throws: StoreError.self) { try running.append([fullEvent(6)]) }
        #expect(try running.head().seq == 5, "nothing was signed over the moved mark")
    }

    @Test("a store an earlier rollout marked for the key without signing the mark, whose key never signed a row, is signed from its next row")
    func legacyUnsignedMark() throws {
        let key = ChainKey("correct horse battery staple")
        let path = TestPaths.scratchFile("legacy-mark") + ".sqlite"
        let unsigned = try AuditStore(path: path, chainKey: nil)
        try unsigned.append((1...3).map(fullEvent))
        try unsigned.write { tx in
            try tx.sql.execute("INSERT INTO store_meta (key, value) VALUES ('chain_key_id', ?), ('chain_key_from', '4')", [.text(key.id)])
        }
        let keyed = try AuditStore(path: path, chainKey: key)
        try keyed.append([fullEvent(4)])
        let verdict = try keyed.verify(key: key)
        #expect(verdict.ok && verdict.signaturesChecked, "\(String(describing: verdict.firstBreak))")
    }

    @Test("a ledger's event holds only under the key's own records: a signing mark moved past an unsigned row does not make it hold")
    func heldEventUnderMovedMark() throws {
        let (store, path, key) = try Self.signedStore()
        // A guard's store, its key checked at its first write (later writes do not read the records again).
        let guardStore = try AuditStore(path: path, chainKey: key)
        #expect(try guardStore.write { tx in try tx.heldEvent(seq: 2) }?.seq == 2, "an untouched signed row holds")
        // Row 2 loses its signature (as a forged row would have none), and the mark says signing began at 3.
        try store.write { tx in
            try tx.sql.execute("UPDATE audit_events SET mac = NULL WHERE seq = 2")
            try tx.sql.execute("UPDATE store_meta SET value = '3' WHERE key = 'chain_key_from'")
        }
        // The running writer sees the records changed and checks them again: it writes nothing, a new one neither.
        #expect(throws: StoreError.self) { try guardStore.write { tx in try tx.heldEvent(seq: 2) } }
        #expect(throws: StoreError.self) { try AuditStore(path: path, chainKey: key).write { tx in try tx.heldEvent(seq: 2) } }
    }
}
