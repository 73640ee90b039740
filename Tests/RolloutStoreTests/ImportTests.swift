import Foundation
import GRDB
import RolloutCore
import RolloutTestSupport
import Testing

@testable import RolloutStore

@Suite("Store: import and export")
struct ImportTests {
    static func writeLines(_ lines: [String], gzip: Bool = false) throws -> String {
        let dir = TestPaths.temporaryDirectory()
        let path = dir.appendingPathComponent("events.jsonl").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        if gzip {
            #expect(try Subprocess.run(["gzip", path]).status == 0)
            return path + ".gz"
        }
        return path
    }

    static func line(_ i: Int, extra: String = "") -> String {
        #"{"ts":"2026-11-0\#(1 + i % 9)T10:00:00.000Z","tenant":"acme","actor":"agent-1","tool":"orders.update","model":"Order","operation":"update","row_count":1,"fields_changed":{"status":{"before":"pending","after":"shipped"}},"reason":"carrier confirmed pickup","idempotency_key":"k-\#(i)","decision":"executed","approver":null\#(extra)}"#
    }

    @Test("a JSON Lines file imports whole, chained, with unknown fields kept through export", arguments: TestStores.kinds)
    func importAndExport(kind: StoreKind) throws {
        let store = try TestStores.make(kind)
        let path = try Self.writeLines((1...50).map { Self.line($0, extra: $0 == 7 ? #","label":1,"ticket":{"id":"T-9"}"# : "") } + [""])
        let summary = try store.importFile(path)
        #expect(summary.imported == 50 && summary.format == .jsonl && summary.head.seq == 50)
        #expect(try store.verify().ok)
        let seventh = try #require(try store.event(seq: 7))
        #expect(seventh.extra["label"] == 1 && seventh.extra["ticket"] == ["id": "T-9"])
        #expect(seventh.changes.first?.fields["status"] == FieldChange(before: "pending", after: "shipped"))

        let out = TestPaths.temporaryDirectory().appendingPathComponent("out.jsonl").path
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        let handle = try #require(FileHandle(forWritingAtPath: out))
        #expect(try store.export(to: handle, redactor: Redactor()) == 50)
        try handle.close()
        // The export imports into another store as the same events.
        let second = try TestStores.make(kind)
        #expect(try second.importFile(out).imported == 50)
        #expect(try second.event(seq: 7)?.extra["ticket"] == ["id": "T-9"])
        #expect(try second.head().hash == store.head().hash, "same events, same chain")
    }

    @Test("gzip files import as they are", arguments: TestStores.kinds)
    func gzip(kind: StoreKind) throws {
        let store = try TestStores.make(kind)
        let path = try Self.writeLines((1...20).map { Self.line($0) }, gzip: true)
        #expect(try store.importFile(path).imported == 20)
    }

    @Test("the first bad line stops the file with its number and field; nothing of it is kept", arguments: TestStores.kinds, [
        (#"{"ts":"yesterday","tenant":"acme","actor":"a","tool":"t","decision":"executed"}"#, "ts"),
        (#"{"ts":"2026-11-01T00:00:00Z","actor":"a","tool":"t","decision":"executed"}"#, "tenant"),
        (#"{"ts":"2026-11-01T00:00:00Z","tenant":"acme","tool":"t","decision":"executed","row_count":"many"}"#, "row_count"),
        (#"{"ts":"2026-11-01T00:00:00Z","tenant":"acme","tool":"t","decision":"executed""#, ""),
    ])
    func badLine(kind: StoreKind, _ pair: (String, String)) throws {
        let (bad, field) = pair
        let store = try TestStores.make(kind)
        try store.importFile(try Self.writeLines([Self.line(1)]))
        let path = try Self.writeLines([Self.line(2), Self.line(3), bad, Self.line(4)])
        let error = #expect(throws: StoreError.self) { try store.importFile(path) }
        guard case .badRecord(_, let line, let badField, _)? = error else {
            Issue.record("expected a bad record error, got \(String(describing: error))")
            return
        }
        #expect(line == 3 && badField == field)
        #expect(try store.count() == 1, "nothing of the bad file was imported")
        #expect(try store.verify().ok)
    }

    @Test("an OrmAI record's fields named like the event's own are kept apart: the chained body names each member once", arguments: TestStores.kinds)
    func ormaiNamesKeptApart(kind: StoreKind) throws {
        let store = try TestStores.make(kind)
        let line = #"{"id":"y","tool_name":"db.update","principal_id":"agent-1","tenant_id":"acme","timestamp":"2026-11-25T07:00:43+00:00","inputs":{"model":"Order","id":1,"data":{"status":"paid"}},"result":{"ok":true},"decision":"stage_resume","tenant":"globex","targets":[424242],"details":{"imported":false},"seq":77,"source":"elsewhere"}"#
        _ = try store.importFile(try Self.writeLines([line]), format: .ormai)
        let event = try #require(try store.lastEvents(1).first)
        #expect(event.tenant == "acme" && event.decision != "stage_resume" && event.targets == [1] && event.isImported)
        let body = event.canonicalBytes
        let parsed = try body.withUnsafeBufferPointer { try JSONValue.parse(bytes: $0, uniqueNames: true) }
        #expect(parsed["tenant"] == "acme" && parsed["targets"] == [1])
        #expect(parsed["ormai_fields"]?["decision"] == "stage_resume" && parsed["ormai_fields"]?["targets"] == [424242])
        #expect(parsed["ormai_fields"]?["source"] == "elsewhere" && parsed["source"] == "ormai")
        #expect(body == event.json.canonicalBytes)
        #expect(try store.verify().ok)
    }

    @Test("OrmAI audit records import with their outcome as OrmAI recorded it, unknown fields kept, secrets redacted", arguments: TestStores.kinds)
    func ormai(kind: StoreKind) throws {
        let store = try TestStores.make(kind)
        let path = TestPaths.packageRoot.appendingPathComponent("Tests/Fixtures/ormai-audit.jsonl").path
        let summary = try store.importFile(path, format: .auto, redactor: Redactor())
        #expect(summary.format == .ormai && summary.imported == 5)
        let events = try store.events()
        #expect(events.map(\.tool) == ["db.update", "db.update", "db.update", "db.bulk_update", "db.get"])
        #expect(events[0].model == "Customer" && events[0].operation == "update" && events[0].reason == "fix typo in name")
        #expect(events[3].targets == [1, 2, 3, 4] && events[3].operation == "bulk_update")
        #expect(events[4].operation == "read")
        #expect(events.allSatisfy { $0.decision == "attempted" && $0.category == .attempted })
        #expect(events[0].extra["source"] == "ormai" && events[0].extra["duration_ms"] != nil)
        #expect(try store.verify().ok)

        let withToken = #"{"id":"x","tool_name":"db.update","principal_id":"agent-1","tenant_id":"acme","timestamp":"2026-11-25T07:00:43+00:00","inputs":{"model":"Order","id":1,"data":{"payment_token":"pt-secret-1"}},"error":{"code":"FIELD_DENIED","message":"denied"}}"#
        _ = try store.importFile(try Self.writeLines([withToken]), format: .ormai)
        let last = try #require(try store.lastEvents(1).first)
        #expect(last.decision == "FIELD_DENIED" && last.category == .refused)
        #expect(!last.json.canonicalText.contains("pt-secret-1"))
    }

    @Test("a time outside years 0001 to 9999 once its zone applies is a bad record naming ts, and nothing is kept (it crashed the import)",
          arguments: ["0000-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
    func timeOutOfRange(_ ts: String) throws {
        let store = try TestStores.make(.sqlite)
        let path = try Self.writeLines([Self.line(1), Self.line(2).replacingOccurrences(of: "2026-11-03T10:00:00.000Z", with: ts)])
        #expect {
            try store.importFile(path)
        } throws: { error in
            guard case StoreError.badRecord(_, let line, let field, _) = error else { return false }
            return line == 2 && field == "ts"
        }
        #expect(try store.head().seq == 0)
    }

    @Test("a record that says one thing to one reader and another to the next is a bad record naming its line (found by an adversarial review)", arguments: [
        (#","decision":"denied""#, "twice"),
        (#","amount":9007199254740993"#, "2^53"),
        (#","amount":1e999"#, "too large"),
        (#","details":"not-an-object""#, "expected an object"),
    ])
    func ambiguousRecord(_ extra: String, _ says: String) throws {
        let store = try TestStores.make(.sqlite)
        let path = try Self.writeLines([Self.line(1), Self.line(2, extra: extra)])
        #expect {
            try store.importFile(path)
        } throws: { error in
            guard case StoreError.badRecord(_, let line, _, let message) = error else { return false }
            return line == 2 && message.contains(says)
        }
        #expect(try store.head().seq == 0)
    }

    /// Gzip files as loggers and transfers leave them: (name, what the file is made of, what the import says;
    /// nil when it imports every line).
    static let gzipShapes: [(String, String, String?)] = [
        ("cut in half, flushed after each line", "cut", "ends early"),
        ("plain lines after the gzip data", "trailing", "not another gzip member"),
        ("one stray byte after the gzip data", "stray", "not another gzip member"),
        ("a byte changed inside the compressed data", "damaged", "gzip data"),
        ("two members one after the other", "members", nil),
    ]

    @Test("a gzip file is read to the end of its last member, or not at all: a cut, damaged or padded file is a bad record naming its line",
          arguments: gzipShapes)
    func gzipEnds(name: String, shape: String, says: String?) throws {
        let path = TestPaths.temporaryDirectory().appendingPathComponent("events.jsonl.gz").path
        // Python's gzip, flushing after each line as line-buffered loggers do: a cut leaves whole lines before it.
        let program = """
            import gzip, sys
            lines = [l.encode() + b"\\n" for l in sys.stdin.read().splitlines()]
            path, shape = sys.argv[1], sys.argv[2]
            with open(path, "wb") as out:
                with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as f:
                    for l in lines[:100]:
                        f.write(l); f.flush()
                if shape == "members":
                    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as f:
                        f.write(b"".join(lines[100:]))
            data = open(path, "rb").read()
            if shape == "cut": data = data[: len(data) // 2]
            if shape == "trailing": data += b"".join(lines[100:])
            if shape == "stray": data += b"x"
            if shape == "damaged": data = data[:400] + bytes([data[400] ^ 0x55]) + data[401:]
            open(path, "wb").write(data)
            """
        let lines = (1...120).map { Self.line($0) }.joined(separator: "\n")
        let made = try Subprocess.run(["python3", "-c", program, path, shape], stdin: lines)
        #expect(made.status == 0, "\(made.stderr)")
        let store = try TestStores.make(.sqlite)
        guard let says else {
            #expect(try store.importFile(path).imported == 120)
            return
        }
        #expect {
            _ = try store.importFile(path)
        } throws: { error in
            guard case StoreError.badRecord(_, let line, _, let message) = error else { return false }
            return line > 1 && message.contains(says)
        }
        #expect(try store.head().seq == 0, "nothing of it is kept")
    }

    @Test("a line longer than the limit is a bad record naming its line, read no further")
    func lineTooLong() throws {
        let path = try Self.writeLines([Self.line(1), String(repeating: "x", count: 5 << 20), Self.line(3)])
        let reader = try LineReader(path: path, maximumLine: 2 << 20)
        #expect(try reader.next { $0.count } != nil)
        #expect {
            _ = try reader.next { $0.count }
        } throws: { error in
            guard case StoreError.badRecord(_, let line, _, let message) = error else { return false }
            return line == 2 && message.contains("longer than")
        }
    }

    @Test("only tools named exactly rollout.… are rollout's own: ROLLOUT.… is an agent's call, listed with the others")
    func controlPrefixIsExact() throws {
        let store = try TestStores.make(.sqlite)
        let tools = ["orders.update", "ROLLOUT.orders.refund", "rollout.stage"]
        try store.append(tools.enumerated().map { i, tool in
            AuditEvent(ts: Date(timeIntervalSince1970: 1_795_000_000 + Double(i)), tenant: "acme", actor: "agent-1", tool: tool,
                       decision: tool.hasPrefix("rollout.") ? "stage_promote" : "executed")
        })
        let scope = ComplianceScope(from: Date(timeIntervalSince1970: 1_794_000_000), to: Date(timeIntervalSince1970: 1_796_000_000))
        var listed: [String] = []
        try store.scanCompliance(scope) { row, _ in listed.append(row.tool) }
        #expect(listed == ["orders.update", "ROLLOUT.orders.refund"])
        #expect(try store.stageEvents(scope).map(\.tool) == ["rollout.stage"])
        // One pass gives both, each to its own side, in chain order.
        var calls: [Int64] = [], control: [Int64] = []
        try store.scanCompliance(scope, control: { control.append($0.seq) }) { row, _ in calls.append(row.seq) }
        #expect(calls == [1, 2] && control == [3])
        // A tool stored as a blob of rollout.'s bytes (a store edited by hand) is no control event to
        // SQL, so it stays among the calls, where the report lists it (found by a review).
        try store.write { tx in try tx.sql.execute("UPDATE audit_events SET tool = CAST(tool AS BLOB) WHERE seq = 3") }
        calls = []
        control = []
        try store.scanCompliance(scope, control: { control.append($0.seq) }) { row, _ in calls.append(row.seq) }
        #expect(calls == [1, 2, 3] && control.isEmpty)
        #expect(try store.stageEvents(scope).isEmpty)
    }

    @Test("credentials are stored as marks wherever they stand: in targets, inside changed values, under any spelling of their name (found by an adversarial review)")
    func credentialsAnywhere() throws {
        let store = try TestStores.make(.sqlite)
        let record = #"{"ts":"2026-11-20T10:00:00Z","tenant":"acme","tool":"customers.update","decision":"executed","actor":"a","reason":"rotating credentials","targets":[{"id":7,"api_key":"SK_TARGET_1"}],"fields_changed":{"profile":{"before":{"api_key":"SK_NESTED_BEFORE"},"after":{"password":"PW_NESTED_AFTER"}}},"headers":{"X-API-Key":"SK_HDR_1","api-key":"SK_HYPHEN","privateKey":"SK_PRIVKEY","Authorization":"Bearer SK_AUTH_1"}}"#
        _ = try store.importFile(try Self.writeLines([record]), redactor: Redactor())
        let pipe = Pipe()
        _ = try store.export(to: pipe.fileHandleForWriting, redactor: Redactor())
        try pipe.fileHandleForWriting.close()
        let exported = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stored = try store.events().map { String(decoding: $0.canonicalBytes, as: UTF8.self) }.joined()
        for secret in ["SK_TARGET_1", "SK_NESTED_BEFORE", "PW_NESTED_AFTER", "SK_HDR_1", "SK_HYPHEN", "SK_PRIVKEY", "SK_AUTH_1"] {
            #expect(!exported.contains(secret) && !stored.contains(secret), "\(secret) left in clear")
        }
        #expect(exported.contains("hmac:") && exported.contains("\"id\":7"))
        #expect(try store.verify().ok)
    }
}
