import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

@testable import RolloutGuard

/// A rollback through an upstream, and the observed table before and after its inverse call.
struct RollbackCheckCase: Sendable, CustomTestStringConvertible {
    var name: String
    var operation: WriteOperation
    /// What the rollback restores (the inverse changes).
    var changes: [RowChange]
    var before: [JSONValue: [String: JSONValue]]
    var after: [JSONValue: [String: JSONValue]]
    /// A part of each problem found, in order; empty when the rows show the rollback.
    var problems: [String]
    var testDescription: String { name }
}

@Suite("Rollback through an upstream: the observed rows must show it")
struct RollbackCheckTests {
    static func row(_ id: Int, _ tenant: String, _ status: String) -> [String: JSONValue] {
        ["id": .number(Double(id)), "tenant_id": .string(tenant), "status": .string(status)]
    }
    static func restore(_ id: Int, _ from: String, _ to: String) -> RowChange {
        RowChange(key: .number(Double(id)), fields: ["status": FieldChange(before: .string(from), after: .string(to))])
    }
    static let deleted = RowChange(key: 1, fields: ["id": FieldChange(before: .null, after: 1), "tenant_id": FieldChange(before: .null, after: "acme"),
                                                    "status": FieldChange(before: .null, after: "paid")])

    static let cases: [RollbackCheckCase] = [
        .init(name: "an update restored", operation: .update, changes: [restore(1, "shipped", "paid")],
              before: [1: row(1, "acme", "shipped"), 2: row(2, "globex", "paid")], after: [1: row(1, "acme", "paid"), 2: row(2, "globex", "paid")], problems: []),
        .init(name: "an update the upstream did not make", operation: .update, changes: [restore(1, "shipped", "paid")],
              before: [1: row(1, "acme", "shipped")], after: [1: row(1, "acme", "shipped")], problems: ["Order 1: status is \"shipped\", the rollback restores \"paid\""]),
        .init(name: "a create undone", operation: .create, changes: [RowChange(key: 1, fields: ["status": FieldChange(before: "paid", after: .null)])],
              before: [1: row(1, "acme", "paid")], after: [:], problems: []),
        .init(name: "a create still there", operation: .create, changes: [RowChange(key: 1, fields: ["status": FieldChange(before: "paid", after: .null)])],
              before: [1: row(1, "acme", "paid")], after: [1: row(1, "acme", "paid")], problems: ["Order 1 still exists"]),
        .init(name: "a delete undone under its key", operation: .delete, changes: [deleted], before: [:], after: [1: row(1, "acme", "paid")], problems: []),
        .init(name: "a delete undone under a new key (a create tool as the inverse)", operation: .delete, changes: [deleted],
              before: [:], after: [7: row(7, "acme", "paid")], problems: []),
        .init(name: "a new row of another tenant is not the restored one", operation: .delete, changes: [deleted],
              before: [:], after: [7: row(7, "globex", "paid")], problems: ["Order 1 is not back (0 new rows", "Order 7 was created"]),
        .init(name: "two new rows that could be it", operation: .delete, changes: [deleted],
              before: [:], after: [7: row(7, "acme", "paid"), 8: row(8, "acme", "paid")], problems: ["Order 1 is not back (2 new rows", "Order 7 was created", "Order 8 was created"]),
        .init(name: "the inverse also deleted another tenant's row", operation: .update, changes: [restore(1, "shipped", "paid")],
              before: [1: row(1, "acme", "shipped"), 2: row(2, "globex", "paid")], after: [1: row(1, "acme", "paid")],
              problems: ["Order 2 was deleted, and the rollback did not ask for it"]),
        .init(name: "the inverse also changed another row", operation: .update, changes: [restore(1, "shipped", "paid")],
              before: [1: row(1, "acme", "shipped"), 2: row(2, "acme", "paid")], after: [1: row(1, "acme", "paid"), 2: row(2, "acme", "refunded")],
              problems: ["Order 2 changed, and the rollback did not ask for it"]),
        // Keys beyond 2^53, as the observer reads them (exact text): the neighbour a double would round to is another row.
        .init(name: "a create of a key beyond 2^53 undone", operation: .create,
              changes: [RowChange(key: "9007199254740993", fields: ["status": FieldChange(before: "paid", after: .null)])],
              before: ["9007199254740992": row(1, "acme", "paid"), "9007199254740993": row(2, "acme", "paid")],
              after: ["9007199254740992": row(1, "acme", "paid")], problems: []),
        .init(name: "an inverse that deleted the neighbour of a key beyond 2^53", operation: .create,
              changes: [RowChange(key: "9007199254740993", fields: ["status": FieldChange(before: "paid", after: .null)])],
              before: ["9007199254740992": row(1, "acme", "paid"), "9007199254740993": row(2, "acme", "paid")],
              after: ["9007199254740993": row(2, "acme", "paid")],
              problems: ["Order \"9007199254740993\" still exists", "Order \"9007199254740992\" was deleted"]),
        // A secret field's values are shown as marks: the problem is logged, answered and reported.
        .init(name: "a secret value the upstream did not restore", operation: .update,
              changes: [RowChange(key: 1, fields: ["payment_token": FieldChange(before: "tok_live_new", after: "tok_live_old")])],
              before: [1: row(1, "acme", "paid").merging(["payment_token": "tok_live_new"]) { $1 }],
              after: [1: row(1, "acme", "paid").merging(["payment_token": "tok_live_new"]) { $1 }],
              problems: ["Order 1: payment_token is hmac:"]),
    ]

    @Test("what the table shows after the inverse, against before it", arguments: cases)
    func check(_ test: RollbackCheckCase) throws {
        let policy = try RolloutFolder(directory: TestPaths.exampleFolder).loadPolicy()
        let model = try #require(policy.model(named: "Order"))
        let problems = Guard.unrestored(test.changes, operation: test.operation, model: model, tenant: "acme", redactor: Redactor(policy: policy),
                                        before: test.before, after: test.after)
        #expect(problems.count == test.problems.count, "\(problems)")
        #expect(!problems.contains { $0.contains("tok_live") }, "\(problems)")
        for (found, expected) in zip(problems, test.problems) { #expect(found.contains(expected), "\(found)") }
    }
}
