import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

/// The guard decides calls concurrently and commits their decisions in groups. A guard killed with
/// SIGKILL while groups are in flight must have recorded every decision it acknowledged: an answer
/// the agent holds always has its event in the chain.
@Suite("rollout guard: group commit loses no acknowledged decision on SIGKILL", .enabled(if: TinyServer.available, "python3 is missing"))
struct GroupCommitKillTests {
    @Test("300 calls in flight, the guard killed after 120 answers: each answered decision is in a chain that verifies")
    func killMidGroup() throws {
        let project = try FailClosedProject()
        let guard_ = try project.guardProcess()
        // A mix the guard decides at different speeds: refusals (no upstream call), creates forwarded
        // one at a time to the upstream, and retries of earlier keys.
        var sent: [Int: (kind: String, key: String)] = [:]
        for i in 0..<300 {
            let key = "kill-\(i % 10 == 9 ? i - 1 : i)"
            let kind = i % 3 == 0 ? "create" : "refuse"
            let reason: JSONValue = kind == "create" ? "stock arrived from the supplier" : "n/a"
            let arguments: JSONValue = ["data": ["title": .string("item \(i)")], "reason": reason, "idempotency_key": .string(key)]
            sent[guard_.send("tools/call", ["name": "items.create", "arguments": arguments])] = (kind, key)
        }
        // Kill once 120 answers are in and at least one of them is a forwarded write. Refusals need no
        // upstream and creates reach it one at a time, so on a loaded machine the first 120 answers can
        // all be refusals (a CI run saw exactly that); waiting for one forwarded answer keeps the test
        // about both kinds without depending on the order the guard finishes them in.
        var answered: [(id: Int, result: JSONValue)] = []
        var forwardedAnswers = 0
        while answered.count < 120 || forwardedAnswers == 0, let answer = guard_.nextAnswer(timeout: 30) {
            guard let id = answer["id"]?.intValue, sent[id] != nil, let result = answer["result"] else { continue }
            answered.append((id, result))
            if result["structuredContent"]?["audit_id"] == nil { forwardedAnswers += 1 }
        }
        guard_.killHard()
        #expect(answered.count >= 120 && forwardedAnswers > 0, "the guard answered \(answered.count) calls (\(forwardedAnswers) forwarded) before the kill")

        let verify = try RolloutBinary.run(["audit", "verify", "--store", project.store])
        #expect(verify.status == 0, "the chain verifies after the kill: \(verify.stdout) \(verify.stderr)")
        let events = try project.audit()
        let bySeq = Dictionary(events.compactMap { e in e["seq"]?.intValue.map { ($0, e) } }, uniquingKeysWith: { a, _ in a })
        let executedKeys = Set(events.filter { $0["decision"]?.stringValue == "executed" }.compactMap { $0["idempotency_key"]?.stringValue })
        var refusalsChecked = 0, writesChecked = 0
        for (id, result) in answered {
            let (kind, key) = sent[id]!
            if let seq = result["structuredContent"]?["audit_id"]?.intValue {
                // A refusal, replay or in_doubt answer names its event: it must be there, with that decision and key.
                let event = try #require(bySeq[seq], "answer to request \(id) names audit event \(seq), which the chain lacks")
                #expect(event["decision"]?.stringValue == decisionCode(result), "event \(seq): \(event)")
                #expect(event["idempotency_key"]?.stringValue == key)
                refusalsChecked += 1
            } else {
                // The upstream's own answer to a forwarded create: its outcome event must be in the chain.
                #expect(kind == "create" && result["isError"] == false, "\(result)")
                #expect(executedKeys.contains(key), "create \(key) was answered as done but its executed event is missing")
                writesChecked += 1
            }
        }
        #expect(refusalsChecked > 0 && writesChecked > 0, "the answers held both refusals (\(refusalsChecked)) and forwarded writes (\(writesChecked))")
        // What the upstream holds lies between what was recorded as done and what was recorded as intended.
        let items = try project.tiny.items().count
        let intents = events.filter { $0["decision"]?.stringValue == "intent" }.count
        #expect(executedKeys.count <= items && items <= intents, "\(executedKeys.count) executed, \(items) items upstream, \(intents) intents")
    }
}
