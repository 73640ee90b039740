import Foundation
import RolloutCore
import RolloutMCP
import RolloutTestSupport
import Testing

/// The client times calls out with one watchdog that sleeps until the earliest deadline it knows of.
/// A call with a short timeout sent while a long one is in flight must still end at its own deadline,
/// and every call a hung server never answers must end as a timeout, never hang.
@Suite("MCP client: each call in flight times out at its own deadline", .enabled(if: TinyServer.available, "python3 is missing"))
struct MCPClientDeadlineTests {
    static func call(_ i: Int) -> JSONValue {
        ["name": "items.create", "arguments": ["data": ["title": .string("item \(i)")], "reason": "a test of deadlines", "idempotency_key": .string("deadline-\(i)")]]
    }

    @Test("a short timeout sent after a long one ends first, and calls sent later with the same timeout each end in turn")
    func shortAfterLong() async throws {
        let client = MCPClient(command: ["python3", TinyServer.script], options: .init(callTimeout: 60, environment: ["TINY_MODE": "hang"]))
        try await client.start()
        let long = Task { try await client.request("tools/call", params: Self.call(0), timeout: 120) }
        let started = Date()
        var ended: [Double] = []
        for i in 1...3 {
            do {
                _ = try await client.request("tools/call", params: Self.call(i), timeout: 0.3)
                Issue.record("a hung server answered call \(i)")
            } catch MCPFailure.timeout(let what, let seconds, _) {
                #expect(what == "tools/call" && seconds == 0.3)
            }
            ended.append(Date().timeIntervalSince(started))
        }
        // Each short call ends long before the 120 s one could have released it.
        #expect(ended.last! < 60, "the three 0.3 s calls ended at \(ended) s")
        await client.stop()
        let outcome = await long.result
        #expect(throws: MCPFailure.self) { try outcome.get() }
    }
}
