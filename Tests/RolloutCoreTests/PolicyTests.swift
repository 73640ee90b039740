import Foundation
import Testing

@testable import RolloutCore
import RolloutTestSupport

/// A small valid policy that the mistake cases below break one line at a time.
let basePolicy = """
    version: 1
    defaults:
      reason: required
      idempotency: required
      cap: {max: 200, per: 1h}
    models:
      Order:
        table: orders
        key: id
        tenant_field: tenant_id
        fields:
          status: {type: string, in: [pending, shipped]}
          amount_cents: {type: integer, min: 0}
          notes: {type: string, max_length: 2000}
    tools:
      orders.update:
        model: Order
        operation: update
        writable: [status, notes]
        approval:
          when: {">": [{"var": "after.amount_cents"}, 50000]}
        cap: {max: 100, per: 1h}
        bind: {target: /id, fields: /data, reason: /reason, idempotency_key: /idempotency_key}

    """

struct PolicyMistake: Sendable, CustomTestStringConvertible {
    var name: String
    var find: String
    var replace: String
    var path: String
    var testDescription: String { name }
}

@Suite("Policy: decoding and validation")
struct PolicyTests {
    @Test("the example policy loads with every tool")
    func examplePolicy() throws {
        let policy = try RolloutFolder(directory: TestPaths.exampleFolder).loadPolicy()
        #expect(policy.tools.map(\.name) == [
            "orders.update", "orders.bulk_update", "orders.delete", "refunds.issue", "customers.update_contact",
            "customers.set_role",
        ])
        let refunds = try #require(policy.tool(named: "refunds.issue"))
        #expect(refunds.operation == .create)
        #expect(refunds.approval?.expiresAfter == .hours(4))
        #expect(refunds.actorCap == Cap(max: 50, per: .days(1)))
        guard case .each(let fields) = refunds.binding.fields else {
            Issue.record("refunds.issue binds its fields one by one")
            return
        }
        #expect(fields["amount_cents"]?.description == "/amount_cents")
        #expect(refunds.binding.idempotencyKey?.description == "/request_id")
        let bulk = try #require(policy.tool(named: "orders.bulk_update"))
        #expect(bulk.dryRunAboveRows == 5 && bulk.maxRows == 50)
        #expect(policy.model(named: "Order")?.field("payment_token")?.secret == true)
        #expect(policy.model(named: "Customer")?.field("role")?.sensitivity == .role)
        #expect(policy.digest.hasPrefix("jcs-sha256:") && policy.digest.count == 75, "the digest names its canonical form")
    }

    @Test("the digest ignores comments and layout but not content")
    func digest() throws {
        let a = try Policy.parse(basePolicy)
        let reformatted = try Policy.parse("# a comment\n" + basePolicy.replacingOccurrences(of: "{max: 200, per: 1h}", with: "\n    max: 200\n    per: 1h"))
        #expect(a.digest == reformatted.digest)
        let asJSON = try Policy.parse(a.canonical.prettyText(), file: "policy.json")
        #expect(asJSON.digest == a.digest)
        let changed = try Policy.parse(basePolicy.replacingOccurrences(of: "max: 100", with: "max: 101"))
        #expect(changed.digest != a.digest)
    }

    static let mistakes: [PolicyMistake] = [
        .init(name: "unknown key", find: "    model: Order\n", replace: "    model: Order\n    max_rows_x: 1\n", path: "tools.orders.update.max_rows_x"),
        .init(name: "wrong type", find: "cap: {max: 100, per: 1h}", replace: "cap: {max: lots, per: 1h}", path: "tools.orders.update.cap.max"),
        .init(name: "cap.per not a duration", find: "cap: {max: 100, per: 1h}", replace: "cap: {max: 100, per: hourly}", path: "tools.orders.update.cap.per"),
        .init(name: "unknown model", find: "model: Order", replace: "model: Ordr", path: "tools.orders.update.model"),
        .init(name: "unknown writable field", find: "writable: [status, notes]", replace: "writable: [status, note]", path: "tools.orders.update.writable[1]"),
        .init(name: "writable tenant field", find: "writable: [status, notes]", replace: "writable: [status, tenant_id]", path: "tools.orders.update.writable[1]"),
        .init(name: "writable key", find: "writable: [status, notes]", replace: "writable: [id, notes]", path: "tools.orders.update.writable[0]"),
        .init(name: "condition does not parse", find: #"{">": [{"var": "after.amount_cents"}, 50000]}"#, replace: #"{"greater": [1, 2]}"#, path: "tools.orders.update.approval.when"),
        .init(name: "condition reads an unknown variable", find: #""after.amount_cents""#, replace: #""order.amount_cents""#, path: "tools.orders.update.approval.when"),
        .init(name: "unknown operation", find: "operation: update", replace: "operation: upsert", path: "tools.orders.update.operation"),
        .init(name: "enum value of the wrong type", find: "in: [pending, shipped]", replace: "in: [pending, 3]", path: "models.Order.fields.status.in[1]"),
        .init(name: "min above max", find: "{type: integer, min: 0}", replace: "{type: integer, min: 10, max: 1}", path: "models.Order.fields.amount_cents"),
        .init(name: "bad JSON pointer", find: "target: /id", replace: "target: id", path: "tools.orders.update.bind.target"),
        .init(name: "missing tenant field", find: "    tenant_field: tenant_id\n", replace: "", path: "models.Order.tenant_field"),
        .init(name: "unsupported version", find: "version: 1", replace: "version: 2", path: "version"),
        .init(name: "a tool named as rollout's own", find: "  orders.update:\n", replace: "  rollout.orders:\n", path: "tools.rollout.orders"),
        .init(name: "a wire name of rollout's own", find: "    model: Order\n", replace: "    model: Order\n    tool: rollout.stage\n", path: "tools.orders.update.tool"),
        .init(name: "a reference to a model the policy does not define", find: "{type: integer, min: 0}", replace: "{type: integer, min: 0, references: Ordr}",
              path: "models.Order.fields.amount_cents.references"),
        .init(name: "a reference from a field that holds no key", find: "{type: string, max_length: 2000}",
              replace: "{type: object, fields: {x: {type: integer}}, references: Order}", path: "models.Order.fields.notes.references"),
        .init(name: "a reference from a list's items, which the guard would not check", find: "{type: string, max_length: 2000}",
              replace: "{type: list, items: {type: integer, references: Order}}", path: "models.Order.fields.notes.items.references"),
        .init(name: "a managed column the model describes", find: "    tenant_field: tenant_id\n", replace: "    tenant_field: tenant_id\n    managed: [updated_at, status]\n",
              path: "models.Order.managed"),
        .init(name: "the tenant column as managed", find: "    tenant_field: tenant_id\n", replace: "    tenant_field: tenant_id\n    managed: [tenant_id]\n",
              path: "models.Order.managed"),
        .init(name: "the key as managed, in capitals", find: "    tenant_field: tenant_id\n", replace: "    tenant_field: tenant_id\n    managed: [ID]\n",
              path: "models.Order.managed"),
        .init(name: "a managed column twice", find: "    tenant_field: tenant_id\n", replace: "    tenant_field: tenant_id\n    managed: [updated_at, Updated_At]\n",
              path: "models.Order.managed"),
    ]

    @Test("each planted mistake is reported with its field path and line", arguments: mistakes)
    func mistake(_ mistake: PolicyMistake) throws {
        #expect(basePolicy.contains(mistake.find))
        let text = basePolicy.replacingOccurrences(of: mistake.find, with: mistake.replace)
        let error = try #require(throws: DiagnosticsError.self) { try Policy.parse(text) }
        let hit = error.diagnostics.first { $0.path == mistake.path }
        #expect(hit != nil, "diagnostics were: \(error.diagnostics.map(\.description))")
        if let hit {
            #expect(hit.file == "policy.yaml")
            #expect(hit.line > 0 && hit.column > 0)
            let lines = text.components(separatedBy: "\n")
            let marker = mistake.replace.components(separatedBy: "\n").last { !$0.isEmpty }?
                .trimmingCharacters(in: .whitespaces) ?? ""
            if let expectedLine = lines.firstIndex(where: { $0.contains(marker) }), !marker.isEmpty {
                // Problems about a missing key point at the enclosing mapping, a line or so above.
                #expect(abs(hit.line - (expectedLine + 1)) <= 3, "\(hit) vs line \(expectedLine + 1)")
            }
        }
    }

    @Test("several mistakes are all reported at once")
    func severalMistakes() throws {
        let text = basePolicy
            .replacingOccurrences(of: "per: 1h}\n    bind", with: "per: 1 hour}\n    bind")
            .replacingOccurrences(of: "writable: [status, notes]", with: "writable: [status, tenant_id]")
            .replacingOccurrences(of: "\"after.amount_cents\"", with: "\"order.total\"")
        let error = try #require(throws: DiagnosticsError.self) { try Policy.parse(text) }
        #expect(Set(error.diagnostics.map(\.path)) == [
            "tools.orders.update.cap.per", "tools.orders.update.writable[1]", "tools.orders.update.approval.when",
        ])
        #expect(error.diagnostics.allSatisfy { $0.line > 0 })
    }

    @Test("YAML syntax errors are unreadable input with a position")
    func syntaxError() {
        let error = #expect(throws: UnreadableInputError.self) { try Policy.parse("version: 1\nmodels: [unclosed\n") }
        #expect((error?.diagnostic.line ?? 0) > 0)
    }

    @Test("YAML 1.1 booleans such as off and no stay strings")
    func yamlCoreSchema() throws {
        let node = try #require(try SourceDocument.parse("a: off\nb: no\nc: true\nd: '1'\ne: 1.5\nf: ~\n", file: "x.yaml"))
        #expect(node.json == ["a": "off", "b": "no", "c": true, "d": "1", "e": 1.5, "f": nil])
    }

    /// A key written twice (with another tag, quoting or Unicode form: YAML's own check, at the mapping's
    /// line), and application tags, which made keys YAML told apart and rollout read as one: each refused,
    /// with its line. (text, the line named, a word of the message)
    static let twiceWrittenKeys: [(String, Int, String)] = [
        ("tenants:\n  acme: {stage: off}\n  !t acme: {stage: broad}\n", 3, "tag '!t'"),
        ("globex:\n  paused: true\n  !!str paused: false\n", 2, "duplicate key 'paused'"),
        ("tools:\n  orders.update: off\n  \"orders.update\": broad\n", 2, "duplicate key 'orders.update'"),
        ("tenants:\n  caf\u{E9}: {stage: off}\n  cafe\u{301}: {stage: broad}\n", 2, "duplicate key"),
        ("stage: !broad broad\n", 1, "tag '!broad'"),
        ("list: !seq [a]\n", 1, "tag '!seq'"),
        ("tenants:\n  acme: {stage: off}\n  !!t acme: {stage: broad}\n", 3, "tag 'tag:yaml.org,2002:t'"),
        ("tenants:\n  1001: {stage: off}\n  \"1001\": {stage: broad}\n", 3, "duplicate key '1001'"),
    ]

    @Test("a key written twice in another way, or an application tag, is refused where it stands", arguments: twiceWrittenKeys)
    func keysReadOnce(text: String, line: Int, word: String) throws {
        #expect { _ = try SourceDocument.parse(text, file: "tenants.yaml") } throws: { error in
            "\(error)".contains(word) && "\(error)".contains("tenants.yaml:\(line):")
        }
        #expect(try SourceDocument.parse("a: !!str 1\nb: !!int 2\nsince: 2026-01-01T00:00:00Z\n", file: "x.yaml")?.json == ["a": "1", "b": 2, "since": "2026-01-01T00:00:00Z"])
    }

    /// A lookup's tool and the policy's reads: (the lookup's tool, the reads, the error's words, or nil when valid).
    static let lookupCases: [(String, String, String?)] = [
        ("get_account", "[get_account]", nil),
        ("get_account", "[\"get_*\"]", nil),
        ("get_account", "[list_accounts]", "is not one of reads:"),
        ("get_account", "[]", "is not one of reads:"),
        ("accounts.update", "[get_account]", "is the write tool of accounts.update"),
    ]

    @Test("a lookup calls only a declared read: never a write tool (it runs before any check, at every stage), never an undescribed tool",
          arguments: lookupCases)
    func lookupTools(tool: String, reads: String, error: String?) throws {
        let text = """
            version: 1
            models:
              Account: {table: accounts, key: id, tenant_field: tenant_id, fields: {nickname: {type: string}}}
            tools:
              accounts.update:
                model: Account
                operation: update
                writable: [nickname]
                lookups:
                  current: {tool: \(tool), args: {id: /id}}
            reads: \(reads)
            """
        let root = try #require(try SourceDocument.parse(text, file: "policy.yaml"))
        let errors = PolicyDecoder.decode(root, file: "policy.yaml").1.filter { $0.severity == .error }
        if let error {
            #expect(errors.count == 1 && errors.allSatisfy { $0.message.contains(error) && $0.path == "tools.accounts.update.lookups.current.tool" && $0.line == 10 },
                    "\(errors.map(\.description))")
        } else {
            #expect(errors.isEmpty, "\(errors.map(\.description))")
        }
    }

    /// A bound key its operation never reads: (operation, bind, the warned paths).
    static let unreadKeys: [(String, String, [String])] = [
        ("create", "{target: /id, fields: /data}", ["tools.orders.update.bind.target"]),
        ("create", "{targets: /ids, fields: /data}", ["tools.orders.update.bind.targets"]),
        ("update", "{target: /id, targets: /ids, fields: /data}", ["tools.orders.update.bind.targets"]),
        ("delete", "{target: /id, targets: /ids}", ["tools.orders.update.bind.targets"]),
        ("bulk_update", "{target: /id, targets: /ids, fields: /data}", ["tools.orders.update.bind.target"]),
        ("update", "{target: /id, targets: null, fields: /data}", []),
        ("create", "{fields: /data}", []),
    ]

    @Test("a bound key the operation never reads is a warning naming its line", arguments: unreadKeys)
    func unreadKey(operation: String, bind: String, warned: [String]) throws {
        let text = basePolicy
            .replacingOccurrences(of: "operation: update", with: "operation: \(operation)")
            .replacingOccurrences(of: "bind: {target: /id, fields: /data, reason: /reason, idempotency_key: /idempotency_key}", with: "bind: \(bind)")
            .replacingOccurrences(of: "        approval:\n          when: {\">\": [{\"var\": \"after.amount_cents\"}, 50000]}\n", with: "")
        let root = try #require(try SourceDocument.parse(text, file: "policy.yaml"))
        let (policy, diagnostics) = PolicyDecoder.decode(root, file: "policy.yaml")
        #expect(policy != nil && !diagnostics.contains { $0.severity == .error }, "\(diagnostics.map(\.description))")
        let warnings = diagnostics.filter { $0.severity == .warning }
        #expect(warnings.map(\.path) == warned, "\(warnings.map(\.description))")
        let bindLine = text.components(separatedBy: "\n").firstIndex { $0.contains("bind:") }.map { $0 + 1 }
        for warning in warnings {
            #expect(warning.line == bindLine && warning.message.contains("refused as an unbound argument"))
        }
    }
}

@Suite("Policy: field rules and reasons")
struct FieldRuleTests {
    static let amount = FieldRule(name: "amount_cents", type: .integer, min: 0, max: 100_000)
    static let status = FieldRule(name: "status", type: .string, allowed: ["pending", "shipped"])
    static let email = FieldRule(name: "email", type: .string, maxLength: 20, pattern: "[^@]+@[^@]+")

    @Test("values are checked against the rule", arguments: [
        (amount, JSONValue.number(0), true), (amount, .number(100_000), true), (amount, .number(-1), false),
        (amount, .number(100_001), false), (amount, .number(1.5), false), (amount, .string("5"), false),
        (amount, .null, false), (status, .string("pending"), true), (status, .string("PENDING"), false),
        (email, .string("a@b"), true), (email, .string("not an email"), false),
        (email, .string("aaaaaaaaaaaaaaaaaaaa@b"), false), (email, .bool(true), false),
    ])
    func violation(rule: FieldRule, value: JSONValue, ok: Bool) {
        #expect((rule.violation(value) == nil) == ok, "\(rule.name) = \(value)")
    }

    @Test("a refusal's message names an out-of-range value, unless the field is secret or named like a credential", arguments: [
        (FieldRule(name: "amount_cents", type: .integer, min: 0, max: 9_999), true),
        (FieldRule(name: "pin", type: .integer, min: 1_000, max: 9_999, secret: true), false),
        (FieldRule(name: "api_key", type: .number, min: 1_000, max: 9_999), false),
    ])
    func rangeMessage(rule: FieldRule, showsValue: Bool) throws {
        try Self.expectRange(rule, showsValue: showsValue) { .number($0) }
    }

    @Test("inside a secret list or object, an item's or member's out-of-range value is not quoted either")
    func nestedRangeMessage() throws {
        var codes = FieldRule(name: "backup_codes", type: .list, secret: true)
        codes.items = FieldRule(name: "backup_codes", type: .integer, min: 1_000, max: 9_999)
        try Self.expectRange(codes, showsValue: false) { .array([.number(1_234), .number($0)]) }
        var card = FieldRule(name: "card", type: .object, secret: true)
        card.fields = [FieldRule(name: "cvv", type: .integer, min: 1_000, max: 9_999)]
        try Self.expectRange(card, showsValue: false) { .object(["cvv": .number($0)]) }
        card.secret = false
        try Self.expectRange(card, showsValue: true) { .object(["cvv": .number($0)]) }
    }

    static func expectRange(_ rule: FieldRule, showsValue: Bool, _ make: (Double) -> JSONValue) throws {
        for n in [123_456_789.0, -987_654.0] {
            let message = try #require(rule.violation(make(n)))
            #expect(message.contains(JSONValue.formatNumber(n)) == showsValue, "\(message)")
            #expect(message.contains(n > 0 ? "at most 9999" : "at least"), "\(message)")
        }
    }

    @Test("a maximum length counts Unicode scalars and a minimum counts characters: combining accents neither slip past a limit nor pad a minimum",
          arguments: [
              ("a" + String(repeating: "\u{301}", count: 60_000), false),  // one character, 60,001 scalars
              (String(repeating: "e\u{301}", count: 6), false),            // six characters, twelve scalars
              ("e\u{301}abc", true),                                      // four characters, five scalars
              ("a\u{301}\u{301}\u{301}", false),                          // one character: below the minimum of three
              ("abcdefghij", true), ("abcdefghijk", false),
          ])
    func lengthsOfAccentedText(text: String, ok: Bool) {
        let notes = FieldRule(name: "notes", type: .string, minLength: 3, maxLength: 10)
        #expect((notes.violation(.string(text)) == nil) == ok, "\(text.unicodeScalars.count) scalars")
        // A reason alike, on the string path and the byte path.
        let reason = ReasonRule(minLength: 3, maxLength: 10)
        #expect((reason.problem(with: text) == nil) == ok, "\(text.unicodeScalars.count) scalars")
    }

    @Test("characters that show nothing neither pad a reason or a value to its minimum nor hide a stock phrase (review 24, F5)", arguments: [
        "as requested\u{200B}", "none" + String(repeating: "\u{200B}", count: 8), "ok" + String(repeating: "\u{AD}", count: 10),
        String(repeating: "\u{3164}", count: 12), "as requested .", "  N/A ! ", "\u{FEFF}as requested\u{2060}",
    ])
    func invisiblesPadNothing(reason: String) {
        #expect(ReasonRule(minLength: 12, boilerplate: ReasonRule.defaultBoilerplate).problem(with: reason) != nil, "\(reason.unicodeScalars.map { String($0.value, radix: 16) })")
        let name = FieldRule(name: "name", type: .string, minLength: 1)
        #expect(name.violation(.string("\u{200B}")) != nil && name.violation(.string("\u{AD}")) != nil && name.violation(.string("Ana")) == nil)
    }

    @Test("a stock phrase is found through spacing, punctuation between its words, compatibility forms, accents and repetition (review 25)", arguments: [
        "as  requested", "as\u{A0}requested", "as\trequested", "\u{FF41}\u{FF53} requested", "\u{1D41A}\u{1D42C} requested",
        "as requested\u{301}", "as\u{20DD} requested", "customer. asked", "customer_asked", "as requested as requested", "AS-REQUESTED!",
        "n.a.", "As requested, as requested.",
        // Review 26, F4: several phrases, words run together, letters of other scripts drawn alike.
        "todo, test, fix", "test fix done ok", "n/a, as requested", "asrequested!", "AsRequested ok", "as r\u{435}quested", "\u{430}s requested",
        "test\u{131}ng", "\u{251}s requested", "as req\u{57D}ested", "\u{1D00}\u{A731} \u{280}\u{1D07}quested",
    ])
    func disguisedStockPhrases(reason: String) {
        let rule = ReasonRule(minLength: 3, boilerplate: ReasonRule.defaultBoilerplate + ["customer asked"])
        #expect(rule.problem(with: reason)?.contains("boilerplate") == true, "\(reason.debugDescription): \(rule.problem(with: reason) ?? "accepted")")
    }

    @Test("a reason or a value padded to its minimum with spaces or blank-looking characters falls short of it (review 25)", arguments: [
        "gift" + String(repeating: "\u{2800}", count: 10), "gift" + String(repeating: "\u{FFFC}", count: 10), "gift" + String(repeating: "\u{E000}", count: 10),
        "gift" + String(repeating: "\u{3000}", count: 10) + "x", "gift          card", "a \u{2800} \u{2800} \u{2800} b",
        // Review 26, F4: controls and format characters that show nothing.
        "abcd" + String(repeating: "\u{1}", count: 8), "abcd" + String(repeating: "\u{0}", count: 8), "abcd" + String(repeating: "\u{7F}", count: 8),
        "abcd" + String(repeating: "\u{FFF9}", count: 8), "abcd" + String(repeating: "\u{13430}", count: 8), "abcd" + String(repeating: "\u{1D159}", count: 8),
    ])
    func blanksPadNothing(reason: String) {
        #expect(ReasonRule(minLength: 12).problem(with: reason)?.contains("at least 12") == true, "\(reason.debugDescription)")
        let name = FieldRule(name: "name", type: .string, minLength: 1)
        #expect(name.violation(.string("\u{2800}")) != nil && name.violation(.string(" \u{2800} ")) != nil && name.violation(.string("\u{FFFC}")) != nil)
        #expect(name.violation(.string("   ")) != nil && name.violation(.string("Ana María")) == nil)
        #expect(name.violation(.string("\u{1}")) != nil && name.violation(.string("\u{FFF9}")) != nil)
        // Wide characters count two; emoji one, so they do not pad.
        #expect(VisibleText.seenLength("返金") == 4 && VisibleText.seenLength("ok 🙂🙂") == 5)
        // Fullwidth Latin spells what Latin spells, and CJK punctuation is punctuation: one each (review 27, F4).
        #expect(VisibleText.seenLength("ｆｉｘｅｄ ｉｔ") == 8 && VisibleText.seenLength("。。") == 2)
        // Real reasons still pass, in any script, with their accents and spacing.
        for real in ["customer reported damaged parcel, ticket 4411", "Erklärung: Kunde hat storniert", "顧客がキャンセルを依頼しました（チケット 4411）",
                     "Клиент отменил заказ 4411", "Ο πελάτης ακύρωσε την παραγγελία", "تم الإلغاء بطلب العميل", "update the address the customer gave by phone",
                     "test order placed by QA, ticket 5521", "fix the typo in the customer's street name",
                     // Review 26, F6: ten characters of Japanese, counted as a terminal shows them (two columns each).
                     "顧客の依頼で返金処理", "고객 요청으로 환불"] {
            #expect(ReasonRule(minLength: 12).problem(with: real) == nil, "\(real)")
        }
    }

    @Test("a field named like a reference to a model of tenants' rows, without references:, is a policy gap; other names are not (review 24, F9); on the model itself a two-word name is its own id (review 26, F7)",
          arguments: [("order_id", false), ("orderId", false), ("orderID", false), ("source_order_id", true), ("sourceOrderId", true), ("order_ref", false),
                      ("orders_key", false), ("parent_order_id", true), ("order", false), ("ordered_at", false), ("tracking_id", false), ("id", false), ("tenant_id", false)])
    func referenceLikeNames(name: String, flagged: Bool) throws {
        let policy = try Policy.parse(basePolicy)
        let model = try #require(policy.model(named: "Order"))
        #expect((SafetyBaseline.unreferencedKey(name, of: model, in: policy) != nil) == flagged)
    }

    @Test("a reference is found in the other ways names say one: other id words, a trailing number, one word, a prefix, a short form; not in a list, a model's own number or a short form of a longer name (review 25)",
          arguments: [("orderid", "Order"), ("ORDERID", "Order"), ("order_id2", "Order"), ("orderIdentifier", "Order"), ("order_no", "Order"),
                      ("order_number", "Order"), ("fk_order", "Order"), ("order_fk", "Order"), ("order_pk", "Order"), ("order_guid", "Order"),
                      ("orderuuid", "Order"), ("customer_uid", "Customer"), ("cust_id", "Customer"), ("custId", "Customer"),
                      ("order_ids", nil as String?), ("item_id", nil), ("product_id", nil), ("parent", nil), ("paid", nil), ("valid", nil),
                      ("refund_number", nil), ("order_notes", nil), ("ord_id", nil),
                      // Review 26, F7: PrestaShop's id_order; a model's own id under its name; a field that says it names no row.
                      ("id_order", "Order"), ("ref_order", "Order"), ("refund_ref", nil), ("refund_id", nil), ("parent_refund_id", "Refund"),
                      ("stripe_order_id", nil)])
    func otherReferenceNames(name: String, expected: String?) throws {
        let policy = try Policy.parse("""
            version: 1
            models:
              Customer: {table: customers, key: id, tenant_field: tenant_id, fields: {}}
              Order: {table: orders, key: id, tenant_field: tenant_id, fields: {}}
              ItemCategory: {table: item_categories, key: id, tenant_field: tenant_id, fields: {}}
              Product: {table: products, key: id, tenant_field: none, fields: {}}
              Refund:
                table: refunds
                key: id
                tenant_field: tenant_id
                fields:
                  order_ids: {type: list, items: {type: integer}}
                  stripe_order_id: {type: string, references: none}
            tools: {}
            """)
        let model = try #require(policy.model(named: "Refund"))
        #expect(SafetyBaseline.unreferencedKey(name, of: model, in: policy)?.name == expected)
    }

    @Test("sensitivity is inferred from names", arguments: [
        ("amount_cents", FieldRule.Sensitivity.money), ("refund_total", .money), ("role", .role),
        ("permissions", .role), ("notes", .none), ("amountCents", .money), ("total", .money), ("unit_price", .money),
        // Whole words, and a reference is not money: a card, a count of bags, a word that merely contains "fee".
        ("credit_card_id", .none), ("total_baggages", .none), ("coffee_size", .none), ("feedback", .none),
    ])
    func sensitivity(name: String, expected: FieldRule.Sensitivity) {
        #expect(FieldRule.inferSensitivity(name) == expected)
    }

    @Test("reasons: missing, blank, boilerplate and short ones are refused", arguments: [
        (nil as String?, false), ("", false), ("   ", false), ("n/a", false), ("As requested.", false),
        ("---", false), ("fix it", false), ("customer reported damaged parcel, ticket 4411", true),
    ])
    func reasons(reason: String?, ok: Bool) {
        #expect((ReasonRule(minLength: 8).problem(with: reason) == nil) == ok)
        // When optional, only the length limit applies.
        #expect(ReasonRule(required: false).problem(with: reason) == nil)
    }

    /// Rules the byte path must agree with the string path under: the default, a short maximum, optional
    /// reasons, and stock phrases of the author's own (one of them a Kelvin sign, which is the letter K).
    static let byteRules: [ReasonRule] = [
        ReasonRule(), ReasonRule(minLength: 3, maxLength: 12), ReasonRule(required: false, maxLength: 20),
        ReasonRule(minLength: 1, boilerplate: ["\u{212A}", "Wontfix!", "  spaced  ", "x-x", ""]),
    ]

    @Test("an ASCII reason judged on its bytes gets the verdict of the same text judged as a string", arguments: byteRules)
    func asciiBytesAsStrings(rule: ReasonRule) {
        var random = SeededRandom(seed: UInt64(rule.maxLength + rule.minLength))
        // Every ASCII byte, and the pieces a verdict turns on: spaces, CR LF, punctuation, stock phrases.
        let pieces = (0..<128).map { String(UnicodeScalar(UInt8($0))) }
            + [" ", "\r\n", "\r", "\n", "\t", ".", "-", "...", "?!", "N/A", "As Requested", "k", "K", "wontfix", "x-x", "spaced", "ticket 4411"]
            + ReasonRule.defaultBoilerplate
        var checked = 0
        for _ in 0..<20_000 {
            let text = (0..<Int.random(in: 0...6, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
            var bytes = text
            let byBytes = bytes.withUTF8 { rule.problem(utf8: UnsafeRawBufferPointer($0)) }
            #expect(byBytes == rule.problem(ofString: text), "\(text.debugDescription)")
            checked += 1
        }
        // Long texts, around the maximum.
        for length in [rule.maxLength - 1, rule.maxLength, rule.maxLength + 1, 2_500] where length >= 0 {
            let text = String(repeating: "a\r\n", count: length / 3) + String(repeating: "b", count: length % 3)
            #expect(rule.problem(with: text) == rule.problem(ofString: text))
        }
        #expect(checked == 20_000)
        // Text that is not ASCII takes the string path.
        #expect(rule.problem(with: "  Erklärung fehlt  ") == rule.problem(ofString: "  Erklärung fehlt  "))
    }
}

@Suite("Durations and timestamps")
struct TimeTests {
    @Test("durations", arguments: [
        ("30s", 30), ("15m", 900), ("1h", 3600), ("7d", 604_800), ("1h30m", 5400), ("PT1H", 3600), ("P7D", 604_800),
        ("2w", 1_209_600),
    ])
    func durations(text: String, seconds: Int) {
        #expect(TimeSpan(text)?.seconds == seconds)
        #expect(TimeSpan(TimeSpan(seconds: seconds).description)?.seconds == seconds)
    }

    @Test("not durations", arguments: ["1 hour", "h", "0s", "-1h", "1x", "", "P"])
    func notDurations(text: String) {
        #expect(TimeSpan(text) == nil)
    }

    @Test("timestamps round-trip through RFC 3339")
    func timestamps() throws {
        let date = try #require(Timestamp.parse("2026-11-25T06:27:36.125Z"))
        #expect(Timestamp.format(date) == "2026-11-25T06:27:36.125Z")
        #expect(Timestamp.parse("2026-11-25T08:27:36.125+02:00") == date)
        #expect(Timestamp.parse("2026-11-25") == Timestamp.parse("2026-11-25T00:00:00Z"))
        #expect(Timestamp.parse("2024-02-29T00:00:00Z")?.timeIntervalSince1970 == 1_709_164_800)
        #expect(Timestamp.format(Date(timeIntervalSince1970: -1)) == "1969-12-31T23:59:59.000Z")
        for bad in ["2026-13-01", "2026-11-25T25:00:00Z", "yesterday", "2026-11-25T06:27:36Zjunk"] {
            #expect(Timestamp.parse(bad) == nil, "\(bad)")
        }
    }
}
