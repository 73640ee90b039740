import RolloutCore
import Testing

/// `Redactor.covering` only ever adds secrets: a name a redactor learned as clear from one policy turns
/// secret when another policy marks it, and covering a policy twice changes nothing.
@Suite("Redactor: covering a policy")
struct RedactorCoveringTests {
    static func policy(ssnSecret: Bool) throws -> Policy {
        try Policy.parse("""
            version: 1
            models:
              Person:
                table: people
                key: id
                tenant_field: tenant_id
                fields:
                  ssn: {type: string\(ssnSecret ? ", secret: true" : "")}
                  nickname: {type: string}
                  api_key: {type: string}
            tools:
              people.update: {model: Person, operation: update, writable: [ssn, nickname, api_key]}
            """)
    }

    static let names = ["id", "tenant_id", "ssn", "nickname", "api_key", "db_password", "status"]

    static func secrets(_ redactor: Redactor) -> [String] {
        names.filter(redactor.isSecret)
    }

    @Test("a fresh redactor covering the policy hides its secret field and its credential-named ones")
    func fresh() throws {
        #expect(Self.secrets(Redactor(key: []).covering(try Self.policy(ssnSecret: true))) == ["ssn", "api_key", "db_password"])
        #expect(Self.secrets(Redactor(key: []).covering(try Self.policy(ssnSecret: false))) == ["api_key", "db_password"])
    }

    @Test("a name learned clear from one policy is secret once another marks it")
    func clearThenSecret() throws {
        let learned = Redactor(key: []).covering(try Self.policy(ssnSecret: false))
        #expect(!learned.isSecret("ssn"))
        #expect(Self.secrets(learned.covering(try Self.policy(ssnSecret: true))) == ["ssn", "api_key", "db_password"])
    }

    @Test("secret: true at any depth, on a tool's own argument, and a secret field bound to an argument of another name")
    func deeperSecrets() throws {
        let policy = try Policy.parse("""
            version: 1
            models:
              Account:
                table: accounts
                key: id
                tenant_field: tenant_id
                fields:
                  profile: {type: object, fields: {ssn: {type: string, secret: true}, city: {type: string}}}
                  backup_codes: {type: list, items: {type: string, secret: true}}
                  pin: {type: integer, secret: true}
                  nickname: {type: string}
            tools:
              accounts.update: {model: Account, operation: update, writable: [profile, backup_codes, nickname]}
              accounts.set_pin:
                model: Account
                operation: update
                writable: [pin]
                bind: {target: /account, fields: {pin: /new_pin}}
                args: {otp: {type: string, secret: true}, note: {type: string}}
              accounts.set_first_pin:
                model: Account
                operation: update
                writable: [pin]
                bind: {target: /account, fields: {pin: /pins/0}}
            """)
        let redactor = Redactor(key: []).covering(policy)
        let names = ["profile", "ssn", "city", "backup_codes", "pin", "new_pin", "pins", "otp", "note", "nickname", "account"]
        #expect(names.filter(redactor.isSecret) == ["ssn", "backup_codes", "pin", "new_pin", "pins", "otp"])
        let shown = redactor.redact(["account": 1, "new_pin": 4821, "otp": "918273", "note": "n",
                                     "data": ["profile": ["ssn": "123-45-6789", "city": "Oslo"], "backup_codes": ["a1b2c3", "d4e5f6"]]])
        for clear in ["4821", "918273", "123-45-6789", "a1b2c3"] { #expect(!shown.canonicalText.contains(clear), "\(shown.canonicalText)") }
        #expect(shown["data"]?["profile"]?["city"] == "Oslo" && shown["note"] == "n")
    }

    @Test("a lookup that selects a secret value is recorded under its name, so its name is secret; one that selects another is not")
    func lookups() throws {
        let policy = try Policy.parse("""
            version: 1
            models:
              Account:
                table: accounts
                key: id
                tenant_field: tenant_id
                fields:
                  nickname: {type: string}
            tools:
              accounts.update:
                model: Account
                operation: update
                writable: [nickname]
                lookups:
                  key_on_file: {tool: get_account, args: {id: /id}, select: /api_key}
                  plan: {tool: get_account, args: {id: /id}, select: /plan}
            reads: [get_account]
            """)
        let redactor = Redactor(key: []).covering(policy)
        #expect(redactor.isSecret("key_on_file") && !redactor.isSecret("plan"))
        let shown = redactor.redact(["lookup": ["key_on_file": "sk-live-7", "plan": "pro"]])
        #expect(!shown.canonicalText.contains("sk-live-7") && shown["lookup"]?["plan"] == "pro", "\(shown.canonicalText)")
    }

    @Test("covering twice is covering once; a secret the redactor had stays secret")
    func idempotentAndAdding() throws {
        let policy = try Self.policy(ssnSecret: true)
        let once = Redactor(key: []).covering(policy)
        let twice = once.covering(policy)
        #expect(twice.secretFields == once.secretFields && Self.secrets(twice) == Self.secrets(once))
        #expect(Self.secrets(Redactor(secretFields: ["nickname"], key: []).covering(policy)) == ["ssn", "nickname", "api_key", "db_password"])
    }
}
