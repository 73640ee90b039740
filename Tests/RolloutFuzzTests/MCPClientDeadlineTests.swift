import Foundation
import RolloutCore
import RolloutMCP
import RolloutTestSupport
import Testing

/// The client times calls out with one watchdog that sleeps until the earliest deadline it knows of.
/// A call with a short timeout sent while a long one is in flight must end at its own deadline, not
/// wait for the long one's. Nothing here bounds how long anything takes (this process's threads are
/// shared with every suite running beside it): the short calls must end while the long call is still
/// waiting, which a watchdog asleep until the long deadline could not do.
@Suite("MCP client: each call in flight times out at its own deadline", .enabled(if: TinyServer.available, "python3 is missing"))
struct MCPClientDeadlineTests {
    static func call(_ i: Int) -> JSONValue {
        ["name": "items.create", "arguments": ["data": ["title": .string("item \(i)")], "reason": "a test of deadlines", "idempotency_key": .string("deadline-\(i)")]]
    }

    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var raised = false
        func raise() { lock.withLock { raised = true } }
        var isRaised: Bool { lock.withLock { raised } }
    }

    @Test("short timeouts sent after a long one each end as timeouts while the long call still waits", .timeLimit(.minutes(10)))
    func shortAfterLong() async throws {
        let client = MCPClient(command: ["python3", TinyServer.script],
                               options: .init(callTimeout: 3600, startTimeout: 3600, environment: ["TINY_MODE": "hang"]))
        try await client.start()
        let longEnded = Flag()
        let long = Task {
            defer { longEnded.raise() }
            return try await client.request("tools/call", params: Self.call(0), timeout: 3600)
        }
        // The long call is in flight (written to the server) before any short one is sent.
        while await client.toolCallsSent < 1 { try await Task.sleep(nanoseconds: 1_000_000) }
        for i in 1...3 {
            do {
                _ = try await client.request("tools/call", params: Self.call(i), timeout: 0.3)
                Issue.record("a hung server answered call \(i)")
            } catch MCPFailure.timeout(let what, let seconds, _) {
                #expect(what == "tools/call" && seconds == 0.3)
            }
        }
        #expect(!longEnded.isRaised, "the long call ended before the short ones")
        await client.stop()
        let outcome = await long.result
        #expect(throws: MCPFailure.self) { try outcome.get() }
    }

    @Test("a request to a server that stopped reading its stdin fails at the call timeout instead of blocking the client", .timeLimit(.minutes(10)))
    func deafServer() async throws {
        // hang_after_write: the server does the first write, then sleeps without reading again.
        let client = MCPClient(command: ["python3", TinyServer.script],
                               options: .init(callTimeout: 1, startTimeout: 3600, environment: ["TINY_MODE": "hang_after_write"]))
        try await client.start()
        do {
            _ = try await client.request("tools/call", params: Self.call(0), timeout: 1)
            Issue.record("a hung server answered")
        } catch MCPFailure.timeout {}
        // A megabyte fills the pipe (64 KiB) the server no longer reads: the write must give up at the
        // call timeout. On a blocking pipe it waited for good, and the client (an actor) with it.
        let big: JSONValue = ["name": "items.create", "arguments": ["data": ["title": .string(String(repeating: "x", count: 1 << 20))],
                                                                   "reason": "a test of deadlines", "idempotency_key": "deadline-big"]]
        let outcome = await Task { try await client.request("tools/call", params: big, timeout: 1) }.result
        guard case .failure(MCPFailure.timeout(let what, _, _)) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        #expect(what.contains("stopped reading"), "\(what)")
        // Nothing more is written after the cut-off request: the next call is refused, not spliced on.
        await #expect(throws: MCPFailure.self) { try await client.request("tools/list", params: [:], timeout: 1) }
        await client.stop()
    }
}
