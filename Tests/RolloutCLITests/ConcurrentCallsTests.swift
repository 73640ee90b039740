import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

/// `rollout guard` decides pipelined calls concurrently; a write to the upstream still takes its turn
/// from its lookups to its recorded outcome. What one call at a time guaranteed must hold with many.
@Suite("rollout guard: pipelined calls keep every guarantee of one call at a time",
       .enabled(if: TinyServer.available, "python3 is missing"), .serialized)
struct ConcurrentCallsTests {
    /// Sends every call at once, then collects the answers by request id.
    static func pipelined(_ guard_: GuardProcess, _ calls: [(String, JSONValue)]) throws -> [JSONValue] {
        let ids = calls.map { guard_.send("tools/call", ["name": .string($0.0), "arguments": $0.1]) }
        return try ids.map { id in
            let answer = try guard_.answer(id)
            return try #require(answer["result"], "request \(id): \(answer)")
        }
    }

    @Test("the same create sent five times at once with one key reaches the upstream once; the others replay it")
    func sameKeyAtOnce() throws {
        let project = try FailClosedProject()
        let guard_ = try project.guardProcess()
        let answers = try Self.pipelined(guard_, Array(repeating: ("items.create", FailClosedProject.create("once", key: "same-key")), count: 5))
        _ = guard_.close()
        #expect(try project.tiny.calls("items.create") == 1, "one upstream write")
        #expect(answers.allSatisfy { $0["isError"] == false }, "\(answers)")
        let decisions = try project.decisions()
        #expect(decisions.filter { $0 == "executed" }.count == 1 && decisions.filter { $0 == "replayed" }.count == 4, "\(decisions)")
        #expect(!decisions.contains("in_doubt"), "a call that waited its turn finds the first one settled, not in doubt")
    }

    @Test("twenty creates sent at once under a cap of five: five reach the upstream, fifteen are refused as cap_exceeded")
    func capAtOnce() throws {
        let project = try FailClosedProject { $0.replacingOccurrences(of: "cap: {max: 100000, per: 1h}", with: "cap: {max: 5, per: 1h}") }
        let guard_ = try project.guardProcess()
        let answers = try Self.pipelined(guard_, (0..<20).map { ("items.create", FailClosedProject.create("item \($0)", key: "cap-\($0)")) })
        _ = guard_.close()
        #expect(try project.tiny.calls("items.create") == 5)
        #expect(answers.compactMap(decisionCode).filter { $0 == "cap_exceeded" }.count == 15, "\(answers.compactMap(decisionCode))")
        let verify = try RolloutBinary.run(["audit", "verify", "--store", project.store])
        #expect(verify.status == 0, "\(verify.stdout)")
    }

    @Test("refusals and writes sent at once: every answer names its own call's decision, and the chain holds each once")
    func mixedAtOnce() throws {
        let project = try FailClosedProject()
        let guard_ = try project.guardProcess()
        let calls: [(String, JSONValue)] = (0..<30).map { i in
            i % 2 == 0 ? ("items.create", FailClosedProject.create("item \(i)", key: "mix-\(i)"))
                : ("items.create", ["data": ["title": .string("item \(i)")], "reason": "n/a", "idempotency_key": .string("mix-\(i)")])
        }
        let answers = try Self.pipelined(guard_, calls)
        _ = guard_.close()
        for (i, answer) in answers.enumerated() {
            if i % 2 == 0 {
                #expect(answer["isError"] == false, "call \(i): \(answer)")
            } else {
                #expect(answer["isError"] == true && decisionCode(answer) == "reason_required", "call \(i): \(answer)")
            }
        }
        let events = try project.audit()
        #expect(Set(events.compactMap { $0["idempotency_key"]?.stringValue }) == Set((0..<30).map { "mix-\($0)" }))
        #expect(try project.tiny.items().count == 15)
    }

    @Test("writes queued behind a hung one meet the stage of their turn: a tenant switched off meanwhile is off for them, and nothing more is forwarded")
    func stageChangedWhileQueued() throws {
        let project = try FailClosedProject()
        let count = project.dir + "/received"
        let guard_ = try project.guardProcess(extra: ["--call-timeout", "2s"], environment: ["TINY_MODE": "hang", "TINY_COUNT": count])
        defer { guard_.kill() }
        let ids = (0..<4).map { guard_.send("tools/call", ["name": "items.create", "arguments": FailClosedProject.create("item \($0)", key: "turn-\($0)")]) }
        // One call hangs at the upstream (whichever took the first turn); the other three wait for theirs.
        let deadline = Date().addingTimeInterval(20)
        while ((try? String(contentsOfFile: count, encoding: .utf8)) ?? "").isEmpty && Date() < deadline { usleep(20_000) }
        // Switch the tenant off while they wait.
        try "version: 1\ntenants:\n  acme: {stage: off}\n  globex: {stage: broad}\n".write(toFile: project.dir + "/tenants.yaml", atomically: true, encoding: .utf8)
        let answers = try ids.map { try guard_.answer($0, timeout: 30)["result"] ?? .null }
        let codes = answers.compactMap(decisionCode).sorted()
        #expect(codes == ["in_doubt", "tool_disabled", "tool_disabled", "tool_disabled"], "\(answers)")
        let received = (try? String(contentsOfFile: count, encoding: .utf8)) ?? ""
        #expect(received.split(separator: "\n").count == 1, "only the call whose turn came before the switch reached the upstream: \(received)")
    }

    @Test("a store that fills up with writes in flight: the write whose outcome is lost stops the guard, and none behind it is forwarded",
          .enabled(if: SmallDisk.available, SmallDisk.skipMessage))
    func diskFullWithCallsInFlight() throws {
        let project = try FailClosedProject()
        let (guard_, _, remove) = try project.guardOnFillingDisk()
        defer { remove() }
        let answers = try Self.pipelined(guard_, (0..<6).map { ("items.create", FailClosedProject.create("item \($0)", key: "full-\($0)")) })
        let texts = answers.map { $0["content"]?[0]?["text"]?.stringValue ?? "" }
        #expect(texts.filter { $0.contains("WAS forwarded") }.count == 1, "\(texts)")
        #expect(texts.filter { $0.contains("no more writes") }.count == 6, "every other call is refused because the guard halted: \(texts)")
        #expect(try project.tiny.calls("items.create") == 1, "nothing more was forwarded")
    }
}
