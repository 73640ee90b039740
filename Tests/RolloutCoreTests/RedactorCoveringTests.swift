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

    @Test("covering twice is covering once; a secret the redactor had stays secret")
    func idempotentAndAdding() throws {
        let policy = try Self.policy(ssnSecret: true)
        let once = Redactor(key: []).covering(policy)
        let twice = once.covering(policy)
        #expect(twice.secretFields == once.secretFields && Self.secrets(twice) == Self.secrets(once))
        #expect(Self.secrets(Redactor(secretFields: ["nickname"], key: []).covering(policy)) == ["ssn", "nickname", "api_key", "db_password"])
    }
}
