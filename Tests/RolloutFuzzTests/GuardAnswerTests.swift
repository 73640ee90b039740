import RolloutCore
import Testing

@testable import RolloutMCP

@Suite("rollout guard: what the agent is told of a decision")
struct GuardAnswerTests {
    static let leaky: JSONValue = ["content": [["type": "text", "text": "updated: UPDATE users SET address1 = 'x' WHERE id = 7"]], "isError": false]
    static let clean: JSONValue = ["content": [["type": "text", "text": "address updated"]], "isError": false]

    @Test("a write that ran is never answered as an error: an answer holding internals is withheld, the write said done", arguments: [DecisionCode.executed, .replayed])
    func executedWithheld(_ code: DecisionCode) {
        let answer = GuardServer.result(Decision(code: code, message: "ok", auditSeq: 42, result: ["ok": true, "upstream": Self.leaky]))
        #expect(answer["isError"] == false)
        #expect(answer["structuredContent"]?["decision"] == .string(code.rawValue) && answer["structuredContent"]?["audit_id"] == 42)
        #expect(answer["structuredContent"]?["answer_withheld"] == true)
        #expect(!answer.canonicalText.contains("UPDATE users"), "\(answer.canonicalText)")
        // An answer without internals is passed on as the upstream gave it.
        #expect(GuardServer.result(Decision(code: code, message: "ok", auditSeq: 42, result: ["ok": true, "upstream": Self.clean])) == Self.clean)
    }

    @Test("a read's answer that holds internals is withheld as an error: nothing was written")
    func readWithheld() {
        let answer = GuardServer.withheldLeaks(Self.leaky)
        #expect(answer["isError"] == true && !answer.canonicalText.contains("UPDATE users"))
    }
}
