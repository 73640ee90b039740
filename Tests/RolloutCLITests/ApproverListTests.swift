import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

/// A queued write is decided by a listed approver on the command line too: `rollout approve 9 --by
/// maria_lopez` ran a write with no approvers.yaml entry of that name (an adversarial review of serve).
@Suite("rollout approve, deny and audit rollback take listed approvers")
struct ApproverListTests {
    @Test("with approvers.yaml, a name it does not list neither approves nor denies; a listed one does")
    func listedOnly() throws {
        let dir = TestPaths.temporaryDirectory("approver-list").path
        try FileManager.default.copyItem(atPath: TestPaths.exampleFolder, toPath: dir + "/rollout")
        let store = dir + "/.rollout/demo.sqlite"
        try """
            version: 1
            approvers:
              maria.lopez:
                token_sha256: \(ApproversFile.sha256("tok-maria"))
              dev.patel:
                token_sha256: \(ApproversFile.sha256("tok-dev"))
            """.write(toFile: dir + "/rollout/approvers.yaml", atomically: true, encoding: .utf8)
        for i in 1...2 {
            let call = try RolloutBinary.run(["call", "refunds.issue", "--demo", "--tenant", "acme", "--actor", "agent-1", "--store", store, "--args",
                                              #"{"order_id": \#(i), "amount_cents": 60000, "reason_code": "damaged", "reason": "parcel lost, ticket \#(i)", "request_id": "big-\#(i)"}"#],
                                             cwd: dir)
            #expect(call.status == 0, "\(call.stderr)")
        }
        for (command, name) in [("approve", "maria_lopez"), ("deny", "someone.else")] {
            let run = try RolloutBinary.run([command, "1", "--by", name, "--reason", "looked at it", "--store", store], cwd: dir)
            #expect(run.status == 2 && run.stderr.contains("is not an approver of"), "\(command): \(run.stdout)\(run.stderr)")
        }
        let approved = try RolloutBinary.run(["approve", "1", "--by", "DEV.PATEL", "--store", store], cwd: dir)
        #expect(approved.status == 0 && approved.stdout.hasPrefix("executed"), "\(approved.stdout)\(approved.stderr)")
        let denied = try RolloutBinary.run(["deny", "2", "--by", "maria.lopez", "--reason", "amount does not match", "--store", store], cwd: dir)
        #expect(denied.status == 0, "\(denied.stdout)\(denied.stderr)")
        // Recorded as approvers.yaml spells the name, not as typed.
        let approvals = try RolloutBinary.run(["approvals", "--all", "--store", store, "--format", "json"], cwd: dir)
        let first = try JSONValue.parse(approvals.stdout).arrayValue?.first { $0["id"]?.intValue == 1 }
        #expect(first?["decided_by"]?.stringValue == "dev.patel", "\(approvals.stdout)")

        // A rollback is a write a person decides too: the same list.
        let executed = try #require(try RolloutBinary.run(["audit", "export", "--store", store], cwd: dir).stdout.split(separator: "\n")
            .map { try JSONValue.parse(String($0)) }.last { $0["decision"]?.stringValue == "executed" }?["seq"]?.intValue)
        let stranger = try RolloutBinary.run(["audit", "rollback", String(executed), "--by", "maria_lopez", "--reason", "wrong order", "--store", store], cwd: dir)
        #expect(stranger.status == 2 && stranger.stderr.contains("is not an approver of"), "\(stranger.stdout)\(stranger.stderr)")
        let listed = try RolloutBinary.run(["audit", "rollback", String(executed), "--by", "maria.lopez", "--reason", "wrong order", "--store", store], cwd: dir)
        #expect(listed.status == 0, "\(listed.stdout)\(listed.stderr)")
    }
}
