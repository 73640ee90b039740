import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

/// `rollout serve --new-token NAME`: the token's hash goes into approvers.yaml, added or replacing the
/// person's old one, and a file it cannot edit safely is left as it was.
@Suite("approver tokens")
struct ApproverTokensTests {
    static func file(_ text: String?) throws -> String {
        let path = TestPaths.temporaryDirectory("approvers").appendingPathComponent("approvers.yaml").path
        if let text { try text.write(toFile: path, atomically: true, encoding: .utf8) }
        return path
    }

    @Test("a missing file is created with the person; the token signs them in and is not in the file")
    func create() throws {
        let path = try Self.file(nil)
        let token = ApproverTokens.generate()
        #expect(try ApproverTokens.record(token: token, for: "maria.lopez", in: path) == true)
        let loaded = try ApproversFile.load(path: path)
        #expect(loaded.approver(token: token)?.name == "maria.lopez")
        #expect(try !String(contentsOfFile: path, encoding: .utf8).contains(token))
        #expect(token.count == 48 && ApproverTokens.generate() != token)
    }

    @Test("a second person is added; the first keeps their token, Slack id and comments")
    func add() throws {
        let path = try Self.file("version: 1\n# who decides\napprovers:\n  maria.lopez:\n    slack_user: U0MARIA   # Slack\n")
        let first = ApproverTokens.generate(), second = ApproverTokens.generate()
        try ApproverTokens.record(token: first, for: "maria.lopez", in: path)
        try ApproverTokens.record(token: second, for: "dev.patel", in: path)
        let loaded = try ApproversFile.load(path: path)
        #expect(loaded.approver(token: first)?.name == "maria.lopez" && loaded.approver(token: first)?.slackUser == "U0MARIA")
        #expect(loaded.approver(token: second)?.name == "dev.patel")
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains("# who decides"))
    }

    @Test("a new token replaces the old one: the old token no longer signs in")
    func rotate() throws {
        let path = try Self.file(nil)
        let old = ApproverTokens.generate(), new = ApproverTokens.generate()
        try ApproverTokens.record(token: old, for: "maria.lopez", in: path)
        #expect(try ApproverTokens.record(token: new, for: "maria.lopez", in: path) == false)
        let loaded = try ApproversFile.load(path: path)
        #expect(loaded.approver(token: new)?.name == "maria.lopez" && loaded.approver(token: old) == nil && loaded.approvers.count == 1)
    }

    @Test("names approvers.yaml cannot hold, and entries it cannot edit safely, change nothing", arguments: [
        ("maria lopez", "version: 1\napprovers: {}\n"),
        ("x: y", "version: 1\napprovers: {}\n"),
        ("maria.lopez", "version: 1\napprovers:\n  maria.lopez: {slack_user: U0MARIA}\n"),
    ])
    func refused(name: String, text: String) throws {
        let path = try Self.file(text)
        #expect(throws: ApproverTokens.RecordError.self) { try ApproverTokens.record(token: ApproverTokens.generate(), for: name, in: path) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == text)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent)
        #expect(leftovers == ["approvers.yaml"])
    }
}
