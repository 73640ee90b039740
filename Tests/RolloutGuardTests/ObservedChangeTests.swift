import Foundation
import RolloutCore
import Testing

@testable import RolloutGuard

/// What a write answered as a refusal changed in the observed database: its own rows and its tenant's
/// (review 24, F1 and F2), counted apart from other tenants' rows, which make it in doubt instead.
@Suite("Observed change: a refusal that wrote, told from other writers' changes")
struct ObservedChangeTests {
    static let policy: Policy = try! Policy.parse(policyText)
    static let policyText = """
        version: 1
        defaults: {reason: required, idempotency: required, cap: {max: 100, per: 1h}}
        models:
          Item:
            table: items
            key: id
            tenant_field: tenant_id
            soft_delete: deleted_at
            fields:
              title: {type: string, max_length: 200}
              token: {type: string, nullable: true, secret: true}
        tools:
          items.update:
            model: Item
            operation: update
            writable: [title]
            bind: {target: /id, fields: /data, reason: /reason, idempotency_key: /idempotency_key}
        """
    static let model = policy.model(named: "Item")!

    static func row(_ id: Int, _ tenant: String, _ title: String, deleted: String? = nil) -> (JSONValue, [String: JSONValue]) {
        (.number(Double(id)), ["id": .number(Double(id)), "tenant_id": .string(tenant), "title": .string(title), "deleted_at": deleted.map(JSONValue.string) ?? .null])
    }

    static let before = Dictionary(uniqueKeysWithValues: [row(1, "acme", "lamp"), row(2, "acme", "desk"), row(3, "globex", "secret plan")])

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var after: [JSONValue: [String: JSONValue]]
        var changed: Bool
        /// Other tenants' rows changed.
        var elsewhere = 0
        var testDescription: String { name }
    }

    static func edited(_ edits: [(JSONValue, [String: JSONValue])], removing: [Int] = []) -> [JSONValue: [String: JSONValue]] {
        var after = before
        for (key, value) in edits { after[key] = value }
        for id in removing { after[.number(Double(id))] = nil }
        return after
    }

    static let cases: [Case] = [
        Case(name: "nothing changed", after: before, changed: false),
        Case(name: "the target's field changed", after: edited([row(1, "acme", "renamed")]), changed: true),
        Case(name: "another row of the tenant changed", after: edited([row(2, "acme", "chair")]), changed: true),
        Case(name: "the target soft-deleted (its mark is no field of the policy)", after: edited([row(1, "acme", "lamp", deleted: "2026-12-01")]), changed: true),
        Case(name: "a row of the tenant made", after: edited([row(4, "acme", "new")]), changed: true),
        Case(name: "the target gone", after: edited([], removing: [1]), changed: true),
        Case(name: "another tenant's row changed meanwhile", after: edited([row(3, "globex", "merger")]), changed: false, elsewhere: 1),
        Case(name: "another tenant's row made meanwhile", after: edited([row(5, "globex", "their secret")]), changed: false, elsewhere: 1),
        Case(name: "another tenant's row gone meanwhile", after: edited([], removing: [3]), changed: false, elsewhere: 1),
        Case(name: "the target and another tenant's row changed", after: edited([row(1, "acme", "renamed"), row(3, "globex", "merger")]), changed: true,
             elsewhere: 1),
        Case(name: "another tenant's row moved to this tenant", after: edited([row(3, "acme", "secret plan")]), changed: true),
        Case(name: "a column the policy does not name changed on the target", after: edited([{
            let (key, values) = row(1, "acme", "lamp")
            return (key, values.merging(["owner": .string("mallory")]) { $1 })
        }()]), changed: true),
    ]

    @Test("a refusal counts as a write where its target or its tenant's rows changed; other tenants' rows are counted apart", arguments: cases)
    func changed(_ c: Case) {
        let rows = ObservedChange.changedRows(Self.model, before: Self.before, after: c.after, tenant: "acme", targets: [1])
        #expect((rows.concerning > 0) == c.changed && rows.elsewhere == c.elsewhere, "\(rows)")
    }

    static func update(_ model: ModelPolicy) -> WritePlan {
        let request = WriteRequest(tool: "items.update", model: "Item", operation: .update, targets: [.number(1)], fields: ["title": "renamed"],
                                   reason: "the supplier renamed it", idempotencyKey: "k-2", dryRun: false, call: ToolCall(tool: "items.update", arguments: [:]))
        return WritePlan(request: request, model: model, rows: [], changes: [], observed: true, lookups: [:])
    }

    static func with(_ row: (JSONValue, [String: JSONValue]), _ extra: [String: JSONValue]) -> (JSONValue, [String: JSONValue]) {
        (row.0, row.1.merging(extra) { $1 })
    }

    @Test("an accepted update that also changed a column the policy does not describe, or moved the row to another tenant, is a mismatch naming the column, never its values (review 25)",
          arguments: [("owner", JSONValue.string("mallory")), ("tenant_id", .string("globex"))])
    func undescribedColumn(column: String, value: JSONValue) {
        let after = Self.edited([Self.with(Self.row(1, "acme", "renamed"), [column: value])])
        let (_, mismatch) = ObservedChange.compare(Self.update(Self.model), before: Self.before, after: after, tenant: "acme")
        #expect(mismatch.contains { $0.contains("\(column) changed") }, "\(mismatch)")
        #expect(!mismatch.joined().contains(value.stringValue!), "\(mismatch)")
        // The write alone is no mismatch.
        #expect(ObservedChange.compare(Self.update(Self.model), before: Self.before, after: Self.edited([Self.row(1, "acme", "renamed")]), tenant: "acme").1.isEmpty)
    }

    @Test("other tenants' rows changed, made or gone beside an accepted write are counted in its mismatch, never named (review 26, F5)")
    func othersCountedNotNamed() {
        let after = Self.edited([Self.row(1, "acme", "renamed"), Self.row(3, "globex", "merger"), Self.row(5, "globex", "their secret")])
        let (_, mismatch) = ObservedChange.compare(Self.update(Self.model), before: Self.before, after: after, tenant: "acme")
        #expect(mismatch == ["2 rows of other tenants changed while it ran (another writer's, or this write's gone astray: which cannot be told)"], "\(mismatch)")
        // This tenant's other rows are named: they are its own.
        let own = ObservedChange.compare(Self.update(Self.model), before: Self.before, after: Self.edited([Self.row(1, "acme", "renamed"), Self.row(2, "acme", "chair")]), tenant: "acme").1
        #expect(own == ["Item 2 changed, and the write did not name it"], "\(own)")
    }

    @Test("a mismatch on a secret field, or one named like a credential, names the field, never its values (review 27, F2)",
          arguments: ["token", "reset_token"])
    func secretFieldMismatch(field: String) throws {
        let policy = try Policy.parse(Self.policyText.replacingOccurrences(of: "      token: {type: string, nullable: true, secret: true}", with: "      token: {type: string, nullable: true, secret: true}\n      reset_token: {type: string, nullable: true}"))
        let model = try #require(policy.model(named: "Item"))
        let after = Self.edited([Self.with(Self.row(1, "acme", "renamed"), [field: "tok_live_123"])])
        let (_, mismatch) = ObservedChange.compare(Self.update(model), before: Self.before, after: after, tenant: "acme")
        #expect(mismatch.contains { $0.contains("\(field) changed") } && !mismatch.joined().contains("tok_live_123"), "\(mismatch)")
    }

    @Test("a mismatch on an object field shows its other members, never a secret member's value")
    func secretMemberMismatch() throws {
        let policy = try Policy.parse(Self.policyText.replacingOccurrences(of: "      token: {type: string, nullable: true, secret: true}", with: "      token: {type: string, nullable: true, secret: true}\n      settings: {type: object, nullable: true, fields: {api_key: {type: string}, plan: {type: string}}}"))
        let model = try #require(policy.model(named: "Item"))
        let after = Self.edited([Self.with(Self.row(1, "acme", "renamed"), ["settings": ["api_key": "sk-live-9", "plan": "pro"]])])
        let redactor = Redactor(key: []).covering(policy)
        let (_, mismatch) = ObservedChange.compare(Self.update(model), before: Self.before, after: after, tenant: "acme", secret: redactor.isSecret)
        #expect(mismatch.contains { $0.contains("settings changed") && $0.contains("pro") } && !mismatch.joined().contains("sk-live-9"), "\(mismatch)")
    }

    @Test("columns the model says the upstream manages (managed: [updated_at]) change with any write, on its rows or others', and are no mismatch; other columns still are")
    func managedColumns() throws {
        var model = Self.model
        model.managed = ["updated_at"]
        let stamped = Self.before.mapValues { $0.merging(["updated_at": "2026-12-01"]) { $1 } }
        var after = stamped
        after[.number(1)] = Self.with(Self.row(1, "acme", "renamed"), ["updated_at": "2026-12-02"]).1
        after[.number(3)] = Self.with(Self.row(3, "globex", "secret plan"), ["updated_at": "2026-12-02"]).1
        #expect(ObservedChange.compare(Self.update(model), before: stamped, after: after, tenant: "acme").1.isEmpty)
        #expect(ObservedChange.changedRows(model, before: stamped, after: after.merging([.number(1): stamped[.number(1)]!]) { $1 }, tenant: "acme", targets: [1])
                == ObservedChange.ChangedRows())
        // Without managed:, the same stamps are changes the write did not ask for.
        let (_, unmanaged) = ObservedChange.compare(Self.update(Self.model), before: stamped, after: after, tenant: "acme")
        #expect(unmanaged.contains { $0.contains("column updated_at changed") } && unmanaged.contains { $0.contains("1 row of other tenants changed") }, "\(unmanaged)")
        after[.number(1)]?["owner"] = "mallory"
        #expect(ObservedChange.compare(Self.update(model), before: stamped, after: after, tenant: "acme").1.contains { $0.contains("column owner changed") })
    }

    @Test("a create that made another tenant's row names it, and never shows its values to this tenant")
    func foreignCreateIsNotDescribed() {
        let request = WriteRequest(tool: "items.create", model: "Item", operation: .create, targets: [], fields: ["title": "probe"],
                                   reason: "stock arrived", idempotencyKey: "k-1", dryRun: false, call: ToolCall(tool: "items.create", arguments: [:]))
        let plan = WritePlan(request: request, model: Self.model, rows: [], changes: [], observed: true, lookups: [:])
        let after = Self.edited([Self.row(5, "globex", "their secret")])
        let (_, mismatch) = ObservedChange.compare(plan, before: Self.before, after: after, tenant: "acme")
        #expect(mismatch.contains { $0.contains("belongs to another tenant") }, "\(mismatch)")
        #expect(!mismatch.joined().contains("their secret") && !mismatch.joined().contains("globex") && !mismatch.joined().contains("5"), "\(mismatch)")
    }
}
