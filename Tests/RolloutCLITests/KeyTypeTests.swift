import Foundation
import RolloutTestSupport
import Testing

/// A key sent as text where the demo table's key is a number: SQLite compares them, PostgreSQL raises an
/// error that aborted the decision's transaction, so the call ended (exit 3) with no record (helper-78).
/// Both engines now refuse it as a decision, recorded in the chain.
@Suite("a key of another type than the table's")
struct KeyTypeTests {
    @Test("a text key against a numeric key column is refused and recorded on every engine", arguments: TestStores.kinds)
    func textKeyRecorded(_ kind: StoreKind) throws {
        let store = try TestStores.location(kind)
        let common = ["--demo", "--dir", TestPaths.exampleFolder, "--store", store, "--tenant", "acme", "--actor", "agent-1"]
        for (i, key) in [#""6""#, #""06""#, #""six""#].enumerated() {
            let args = #"{"id": \#(key), "data": {"status": "shipped"}, "reason": "carrier confirmed pickup", "idempotency_key": "k-\#(i)"}"#
            let result = try RolloutBinary.run(["call", "orders.update", "--args", args] + common)
            #expect(result.status == 1, "\(key): \(result.status) \(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains("(audit event \(i + 1))"), "\(key): \(result.stdout)\(result.stderr)")
        }
        // The engine's comparison finds "6" on both: refused for its spelling, the same way.
        let spelled = try RolloutBinary.run(["call", "orders.update", "--args",
                                             #"{"id": "6", "data": {"status": "shipped"}, "reason": "carrier confirmed pickup", "idempotency_key": "k-9"}"#] + common)
        #expect(spelled.stdout.hasPrefix("invalid_arguments") && spelled.stdout.contains("send the key as the row holds it (6)"), "\(spelled.stdout)")
        #expect(try verifiedCount(store) == (true, 4))
    }
}
