import Foundation
import RolloutTestSupport
import Testing

/// A NUL (U+0000) in what an audit row's columns would copy: PostgreSQL's text holds none, and a call or
/// an import that carried one failed there with no record and no line named. Both engines now refuse
/// it the same way: a call is refused and recorded, an import names the line and imports nothing.
@Suite("U+0000 in calls and imports")
struct NULTextTests {
    @Test("a call with a NUL in its reason, key or a field's name is refused and recorded", arguments: TestStores.kinds)
    func callRecorded(_ kind: StoreKind) throws {
        let store = try TestStores.location(kind)
        let common = ["--demo", "--dir", TestPaths.exampleFolder, "--store", store, "--tenant", "acme", "--actor", "agent-1"]
        let calls = [
            #"{"id": 1, "data": {"status": "shipped"}, "reason": "carrier confirmed\u0000 pickup", "idempotency_key": "k-1"}"#,
            #"{"id": 1, "data": {"status": "shipped"}, "reason": "carrier confirmed pickup", "idempotency_key": "k\u00002"}"#,
            #"{"id": 1, "data": {"sta\u0000tus": "shipped"}, "reason": "carrier confirmed pickup", "idempotency_key": "k-3"}"#,
        ]
        for (i, args) in calls.enumerated() {
            let result = try RolloutBinary.run(["call", "orders.update", "--args", args] + common)
            #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
            #expect(result.stdout.hasPrefix("invalid_arguments (audit event \(i + 1))") && result.stdout.contains("U+0000"), "\(result.stdout)\(result.stderr)")
        }
        #expect(try verifiedCount(store) == (true, 3))
    }

    @Test("an import with a NUL in a column's text names the line and field, and imports nothing", arguments: TestStores.kinds)
    func importRefused(_ kind: StoreKind) throws {
        let store = try TestStores.location(kind)
        let file = try writeEvents(3)
        var lines = try String(contentsOfFile: file, encoding: .utf8).components(separatedBy: "\n")
        lines[1] = lines[1].replacingOccurrences(of: "carrier confirmed pickup", with: #"carrier\u0000 confirmed pickup"#)
        try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let result = try RolloutBinary.run(["audit", "import", file, "--store", store])
        #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains(":2: reason: holds the character U+0000"), "\(result.stderr)")
        #expect(try verifiedCount(store).count == 0)
    }
}
