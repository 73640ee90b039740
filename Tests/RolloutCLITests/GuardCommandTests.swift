import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

/// `rollout guard` in front of the tiny MCP server, driven with raw JSON-RPC lines.
struct GuardSession {
    let dir: String
    var store: String { dir + "/guard.sqlite" }

    init(stage: String, approval: Bool = false) throws {
        dir = TestPaths.temporaryDirectory("guard-cli").path
        var policy = try String(contentsOfFile: TinyServer.policyFolder + "/policy.yaml", encoding: .utf8)
        if approval { policy = policy.replacingOccurrences(of: "    writable: [title]\n", with: "    writable: [title]\n    approval: {when: true}\n") }
        try policy.write(toFile: dir + "/policy.yaml", atomically: true, encoding: .utf8)
        try "version: 1\ntenants:\n  acme: {stage: \(stage)}\n  globex: {stage: broad}\n".write(toFile: dir + "/tenants.yaml", atomically: true, encoding: .utf8)
    }

    /// Sends the initialize handshake and `requests` (method, params) one at a time, each after the
    /// answer to the one before, as an agent does; returns the responses by id.
    func exchange(_ requests: [(String, JSONValue)], tenant: String = "acme") throws -> (responses: [Int: JSONValue], result: ProcessResult) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: RolloutBinary.path)
        process.arguments = ["guard", "--dir", dir, "--store", store, "--tenant", tenant, "--actor", "agent-1", "--", "python3", TinyServer.script]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        let lines = LineReader(output.fileHandleForReading)
        try process.run()
        var responses: [Int: JSONValue] = [:]
        func send(_ line: String, id: Int?) throws {
            input.fileHandleForWriting.write(Data((line + "\n").utf8))
            guard let id else { return }
            while responses[id] == nil {
                guard let line = lines.next(timeout: 30) else { throw GuardSessionError(message: "no answer to request \(id)") }
                if let json = try? JSONValue.parse(line), let got = json["id"]?.intValue { responses[got] = json }
            }
        }
        try send(#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}}"#, id: 0)
        try send(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#, id: nil)
        for (i, (method, params)) in requests.enumerated() {
            try send(JSONValue.object(["jsonrpc": "2.0", "id": .number(Double(i + 1)), "method": .string(method), "params": params]).canonicalText, id: i + 1)
        }
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (responses, ProcessResult(status: process.terminationStatus, stdout: "", stderr: stderr))
    }

    static func call(_ arguments: JSONValue, tool: String = "items.create") -> (String, JSONValue) {
        ("tools/call", ["name": .string(tool), "arguments": arguments])
    }

    func audit() throws -> [JSONValue] {
        let export = try RolloutBinary.run(["audit", "export", "--store", store])
        return try export.stdout.split(separator: "\n").map { try JSONValue.parse(String($0)) }
    }
}

struct GuardSessionError: Error { var message: String }

/// Lines from a pipe, read on their own thread.
final class LineReader: @unchecked Sendable {
    private var lines: [String] = []
    private let lock = NSCondition()
    private var closed = false

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            var buffer = Data()
            while true {
                let chunk = handle.availableData
                lock.lock()
                if chunk.isEmpty { closed = true; lock.broadcast(); lock.unlock(); return }
                buffer.append(chunk)
                while let newline = buffer.firstIndex(of: 10) {
                    lines.append(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self))
                    buffer.removeSubrange(buffer.startIndex...newline)
                }
                lock.broadcast()
                lock.unlock()
            }
        }
    }

    /// The next line, or nil when the pipe closed or `timeout` seconds passed.
    func next(timeout: Double) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        lock.lock()
        defer { lock.unlock() }
        while lines.isEmpty && !closed {
            if !lock.wait(until: deadline) { return nil }
        }
        return lines.isEmpty ? nil : lines.removeFirst()
    }
}

@Suite("rollout guard: the MCP proxy, end to end", .enabled(if: TinyServer.available, "python3 is missing"))
struct GuardCommandTests {
    static let good: JSONValue = ["data": ["title": "hello"], "reason": "stock arrived from the supplier", "idempotency_key": "k-1"]

    @Test("allowed writes reach the upstream, refusals come back as errors naming the code, retries replay, reads pass through")
    func broad() throws {
        let g = try GuardSession(stage: "broad")
        let (r, result) = try g.exchange([
            ("tools/list", [:]),
            GuardSession.call(Self.good),
            GuardSession.call(["data": ["title": "x"], "reason": "n/a", "idempotency_key": "k-2"]),
            GuardSession.call(["data": ["title": "x", "tenant_id": "globex"], "reason": "move it to the other shop", "idempotency_key": "k-3"]),
            GuardSession.call(Self.good),
            GuardSession.call([:], tool: "items.list"),
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let tools = r[1]?["result"]?["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(Set(tools) == ["items.create", "items.update", "items.delete", "refunds.issue", "items.get", "items.list"])
        #expect(r[2]?["result"]?["isError"] == false && r[2]?["result"]?["content"]?[0]?["text"]?.stringValue?.contains("\"id\": 1") == true)
        #expect(r[3]?["result"]?["isError"] == true && r[3]?["result"]?["structuredContent"]?["decision"] == "reason_required")
        #expect(r[3]?["result"]?["content"]?[0]?["text"]?.stringValue?.hasPrefix("reason_required: ") == true)
        #expect(r[4]?["result"]?["structuredContent"]?["decision"] == "cross_tenant")
        // The retry is answered from the ledger: the same answer, and the upstream created one item only.
        #expect(r[5]?["result"]?["content"] == r[2]?["result"]?["content"])
        #expect(r[6]?["result"]?["content"]?[0]?["text"]?.stringValue?.contains(#"[{"title": "hello"}]"#) == true, "\(r[6] ?? .null)")
        // A forwarded write is two events: its intent, then its outcome.
        let decisions = try g.audit().map { $0["decision"]?.stringValue ?? "" }
        #expect(decisions == ["intent", "executed", "reason_required", "cross_tenant", "replayed"])
        #expect(try g.audit().allSatisfy { $0["tenant"] == "acme" && $0["actor"] == "agent-1" })
    }

    @Test("the stage decides what the agent sees: off hides the tool and refuses it, shadow validates and records without forwarding")
    func stages() throws {
        let off = try GuardSession(stage: "off")
        let (r, _) = try off.exchange([("tools/list", [:]), GuardSession.call(Self.good)])
        #expect(r[1]?["result"]?["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["items.get", "items.list"])
        #expect(r[2]?["result"]?["structuredContent"]?["decision"] == "tool_disabled")

        let shadow = try GuardSession(stage: "shadow")
        let (s, _) = try shadow.exchange([("tools/list", [:]), GuardSession.call(Self.good), GuardSession.call([:], tool: "items.list")])
        #expect(Set(s[1]?["result"]?["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []) == ["items.create", "items.update", "items.delete", "refunds.issue", "items.get", "items.list"])
        #expect(s[2]?["result"]?["isError"] == false && s[2]?["result"]?["structuredContent"]?["decision"] == "shadowed")
        #expect(s[3]?["result"]?["content"]?[0]?["text"]?.stringValue?.contains(#""items": []"#) == true, "nothing reached the upstream")
        #expect(try shadow.audit().map { $0["decision"]?.stringValue } == ["shadowed"])
    }

    @Test("a write that needs approval is queued, not forwarded, and runs on the upstream once a person approves it")
    func approvals() throws {
        let g = try GuardSession(stage: "broad", approval: true)
        let (r, _) = try g.exchange([GuardSession.call(Self.good), GuardSession.call([:], tool: "items.list")])
        #expect(r[1]?["result"]?["isError"] == false && r[1]?["result"]?["structuredContent"]?["decision"] == "pending_approval")
        #expect(r[2]?["result"]?["content"]?[0]?["text"]?.stringValue?.contains(#""items": []"#) == true, "not forwarded while pending")
        let approved = try RolloutBinary.run(["approve", "1", "--by", "maria.lopez", "--reason", "checked the stock", "--dir", g.dir, "--store", g.store,
                                              "--format", "json", "--", "python3", TinyServer.script])
        #expect(approved.status == 0, "\(approved.stdout)\(approved.stderr)")
        let decision = try JSONValue.parse(approved.stdout)
        #expect(decision["decision"] == "executed" && decision["result"]?["upstream"]?["content"]?[0]?["text"]?.stringValue?.contains("\"success\": true") == true)
        let last = try #require(try g.audit().last)
        #expect(last["approver"] == "maria.lopez" && last["details"]?["approval_reason"] == "checked the stock")
    }

    /// A `rollout guard` whose agent never reads an answer: `calls` writes sent at once, then its side
    /// closed. The exit status, standard error and the audit log's decisions.
    func deafAgent(calls: Int, observe: Bool) throws -> (status: Int32, stderr: String, decisions: [String]) {
        let g = try GuardSession(stage: "broad")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: RolloutBinary.path)
        process.arguments = ["guard", "--dir", g.dir, "--store", g.store, "--tenant", "acme", "--actor", "agent-1"]
            + (observe ? ["--observe", "sqlite:" + g.dir + "/tiny.db"] : []) + ["--", "python3", TinyServer.script]
        process.environment = ProcessInfo.processInfo.environment.merging(["TINY_DB": g.dir + "/tiny.db"]) { $1 }
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        try output.fileHandleForReading.close()  // the agent will never read an answer
        for i in 1...calls {
            let arguments: JSONValue = ["data": ["title": .string("item \(i)")], "reason": "stock arrived from the supplier", "idempotency_key": .string("k-\(i)")]
            let call: JSONValue = ["jsonrpc": "2.0", "id": .number(Double(i)), "method": "tools/call", "params": ["name": "items.create", "arguments": arguments]]
            input.fileHandleForWriting.write(Data((call.canonicalText + "\n").utf8))
        }
        try input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (process.terminationStatus, stderr, try g.audit().map { $0["decision"]?.stringValue ?? "" })
    }

    /// An agent that goes away with a write in flight cannot know what the write did: the guard says so
    /// in its exit status and on standard error, and the write's decision is in the audit log.
    @Test("an agent that stops reading its answers: the guard ends with status 1 and counts the answers it could not deliver")
    func agentStopsReading() throws {
        let run = try deafAgent(calls: 1, observe: false)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("the agent stopped reading the guard's answers: 1 answer was not delivered"), "\(run.stderr)")
        #expect(run.decisions == ["intent", "executed"])
    }

    /// With --observe, calls go one at a time: the place the unread answer frees is not given to the next
    /// call, so nothing more reaches the upstream once the guard knows nobody reads.
    @Test("an agent that stops reading: no call after the unread answer is forwarded")
    func noCallAfterTheUnreadAnswer() throws {
        let run = try deafAgent(calls: 3, observe: true)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("1 answer was not delivered"), "\(run.stderr)")
        #expect(run.decisions == ["intent", "executed"], "one write reached the upstream")
    }

    @Test("the principal comes from the command line; without one the guard will not start")
    func principal() throws {
        let g = try GuardSession(stage: "broad")
        let missing = try Subprocess.run([RolloutBinary.path, "guard", "--dir", g.dir, "--store", g.store, "--actor", "a", "--", "python3", TinyServer.script],
                                         environment: ["ROLLOUT_TENANT": ""], stdin: "")
        #expect(missing.status == 2 && missing.stderr.contains("--tenant"))
        #expect(try Subprocess.run([RolloutBinary.path, "guard", "--tenant", "acme", "--actor", "a"]).status == 2, "no upstream command")
    }

    @Test("the official Python MCP client (mcp<2) connects, lists and calls through the guard",
          .enabled(if: MCPClientPeer.available, MCPClientPeer.skipMessage))
    func pythonClient() throws {
        let g = try GuardSession(stage: "broad")
        let result = try Subprocess.run([MCPClientPeer.python, MCPClientPeer.script, RolloutBinary.path,
                                         "--dir", g.dir, "--store", g.store, "--tenant", "acme", "--actor", "agent-1", "--", "python3", TinyServer.script])
        #expect(result.status == 0, "\(result.stderr)")
        let seen = try JSONValue.parse(result.stdout)
        #expect(seen["server"] == "rollout-guard")
        #expect(seen["tools"] == ["items.create", "items.delete", "items.get", "items.list", "items.update", "refunds.issue"])
        #expect(seen["read"]?["isError"] == false)
        #expect(seen["write"]?["isError"] == false && seen["write"]?["text"]?.stringValue?.contains("\"success\": true") == true)
        #expect(seen["refused"]?["isError"] == true && seen["refused"]?["structured"]?["decision"] == "reason_required")
        #expect(seen["retry"]?["text"] == seen["write"]?["text"])
    }
}
