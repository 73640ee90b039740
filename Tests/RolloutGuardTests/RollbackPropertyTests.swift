import Foundation
import PropertyBased
import RolloutCore
import RolloutStore
import RolloutTestSupport
import Testing

@testable import RolloutGuard

@Suite("Guard: rollback restores state exactly (property)")
struct RollbackPropertyTests {
    /// A policy whose writes all execute at once: no approvals, caps or dry runs in the way.
    static let policyText = """
        version: 1
        defaults: {reason: required, idempotency: required}
        models:
          Order:
            table: orders
            key: id
            tenant_field: tenant_id
            fields:
              status: {type: string, in: [a, b, c, d]}
              amount_cents: {type: integer, min: 0, max: 1000}
              notes: {type: string, max_length: 50, nullable: true}
              card_token: {type: string, secret: true, nullable: true}   # the seeded rows hold none
        tools:
          o.update: {model: Order, operation: update, writable: [status, amount_cents, notes, card_token]}
          o.create: {model: Order, operation: create, writable: [status, amount_cents, notes]}
          o.delete: {model: Order, operation: delete}
          o.bulk: {model: Order, operation: bulk_update, writable: [status], max_rows: 10}
        """

    /// One random write: which kind, which row, which value.
    static let write = zip(Gen.int(in: 0...3), Gen.int(in: 0...59), Gen.int(in: 0...20))

    @Test("random executed writes rolled back in reverse order leave the database as it was")
    func rollbackInReverse() async throws {
        let policy = try Policy.parse(Self.policyText)
        await propertyCheck(count: 40, input: Self.write.array(of: 1...20)) { writes in
            let fixture = try GuardFixture(policy: policy, stages: ["acme": .broad])
            let initial = try fixture.table("Order")
            var executed: [Int64] = []
            for (n, (kind, rowIndex, value)) in writes.enumerated() {
                let acmeKeys = try fixture.table("Order").filter { $0.value["tenant_id"] == "acme" }.keys.compactMap(\.intValue).sorted()
                guard !acmeKeys.isEmpty else { break }
                let key = JSONValue.number(Double(acmeKeys[rowIndex % acmeKeys.count]))
                let common: [String: JSONValue] = ["reason": .string("property test write number \(n)"), "idempotency_key": .string("p-\(n)")]
                let statuses: [JSONValue] = ["a", "b", "c", "d"]
                var args: [String: JSONValue]
                let tool: String
                switch kind {
                case 0:
                    tool = "o.update"
                    args = ["id": key, "data": ["status": statuses[value % 4], "amount_cents": .number(Double(value * 37)),
                                                "notes": value % 3 == 0 ? .null : .string("note \(value)"), "card_token": .string("tok-\(value)")]]
                case 1:
                    tool = "o.create"
                    args = ["data": ["status": statuses[value % 4], "amount_cents": .number(Double(value)), "notes": "new"]]
                case 2:
                    tool = "o.delete"
                    args = ["id": key]
                default:
                    tool = "o.bulk"
                    let keys = (0..<min(4, acmeKeys.count)).map { JSONValue.number(Double(acmeKeys[(rowIndex + $0) % acmeKeys.count])) }
                    args = ["ids": .array(Array(Set(keys))), "data": ["status": statuses[value % 4]]]
                }
                args.merge(common) { a, _ in a }
                let decision = try await fixture.call(tool, .object(args))
                #expect(decision.code == .executed, "\(tool): \(decision.message)")
                if decision.code == .executed { executed.append(decision.auditSeq) }
            }
            for seq in executed.reversed() {
                let undo = try await fixture.guard_.rollback(seq, by: "tester", reason: "property test rollback")
                #expect(undo.code == .rolledBack, "rollback of \(seq): \(undo.message)")
            }
            #expect(try fixture.table("Order") == initial)
            #expect(try fixture.store.verify().ok)
        }
    }
}
