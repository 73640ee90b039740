import Foundation
import RolloutCore
import RolloutGuard

/// `rollout guard`: an MCP server over stdio that an agent talks to instead of its tool server.
/// Default deny: the agent sees and may call only what the policy describes, a write tool (through the
/// decision pipeline, for the principal the host gave) or a read (`reads:`, after its scoping checks);
/// every other tool the upstream lists is hidden and refused as `tool_undescribed`, audited. Tool calls
/// are decided concurrently (up to `maxCallsInFlight`, each until its answer is written; the refusals of
/// their first checks share commits, see `AuditStore.writeGrouped`) and answered as each is recorded, by
/// id as JSON-RPC allows; writes reach the upstream one at a time, each from its lookups to its
/// recorded outcome (`Guard.run`). Other requests are answered in order. rollout's own JSON-RPC codec
/// passes arguments and answers through unchanged.
public final class GuardServer: @unchecked Sendable {
    public struct Options: Sendable {
        public var principal: Principal
        public var serverName: String

        public init(principal: Principal, serverName: String = "rollout-guard") {
            self.principal = principal
            self.serverName = serverName
        }
    }

    public let guard_: Guard
    public let upstream: MCPUpstream
    public let options: Options
    let log: @Sendable (String) -> Void
    private(set) var upstreamTools: [MCPTool] = []

    public init(guard guard_: Guard, upstream: MCPUpstream, options: Options, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.guard_ = guard_
        self.upstream = upstream
        self.options = options
        self.log = log
    }

    var policy: Policy { guard_.policy }

    /// Starts the upstream, then serves the agent on `input`/`output` until it closes its side.
    public func run(input: Int32 = 0, output: Int32 = 1) async throws {
        BrokenPipes.ignore()
        try await upstream.start()
        upstreamTools = try await upstream.listTools()
        let hidden = upstreamTools.map(\.name).filter { !policy.describes(wireName: $0) }
        if !hidden.isEmpty {
            log("guard: hiding \(hidden.count) tool\(hidden.count == 1 ? "" : "s") the policy does not describe (refused as tool_undescribed if called): \(hidden.sorted().joined(separator: ", "))")
        }
        if upstream.observer == nil { log("guard: no --observe: a row is read only through a tool's lookup of it; an update or delete of a tenant's row it cannot read is refused, other before values are recorded as unknown") }

        // Lines read wait here, by their size, until handled: a client that sends faster than its calls are
        // answered fills its own pipe, not the guard's memory.
        let backlog = ReadBacklog(limit: Self.readBacklogBytes)
        let messages = AsyncStream<(Incoming, Int)> { continuation in
            let thread = Thread {
                var splitter = LineSplitter()
                var buffer = [UInt8](repeating: 0, count: 65_536)
                while true {
                    let n = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    buffer.withUnsafeBufferPointer { chunk in
                        splitter.feed(UnsafeBufferPointer(rebasing: chunk[0..<n])) { line in
                            let cost = ReadBacklog.cost(ofLine: line.count)
                            backlog.admit(cost)
                            do throws(JSONRPCError) {
                                continuation.yield((.message(try JSONRPCMessage.decode(line, exactNumbers: true)), cost))
                            } catch {
                                // A number that cannot be held exactly: refuse the call it belongs to, by its id.
                                if let lenient = try? JSONRPCMessage.decode(line) {
                                    continuation.yield((.inexact(lenient, error.message), cost))
                                } else {
                                    continuation.yield((.invalid(error), cost))
                                }
                            }
                        } tooLong: { length, limit in
                            continuation.yield((.invalid(JSONRPCError(
                                code: JSONRPCError.invalidRequest,
                                message: "a line of \(length) bytes, over the guard's limit of \(limit) bytes", id: .null)), 0))
                        }
                    }
                }
                continuation.finish()
            }
            thread.name = "rollout.guard.agent"
            thread.start()
        }
        let replies = ReplyWriter(output: output)
        await withTaskGroup(of: Void.self) { calls in
            var inFlight = 0
            // Before and after snapshots of an observed database hold only when calls go one at a time.
            let limit = upstream.observer == nil ? Self.maxCallsInFlight : 1
            reading: for await (incoming, size) in messages {
                if replies.closed { break }
                switch incoming {
                case .invalid(let error):
                    log("guard: the client sent a message that cannot be read: \(error.message)")
                    // It may have been a call (a batch, an unpaired surrogate): refused, and recorded as one.
                    recordUnreadable("a message the guard cannot read as one JSON-RPC request (\(error.message)) was refused; nothing was forwarded")
                    await replies.send(error.reply)
                case .message(let message) where message.method == "tools/call":
                    if inFlight >= limit {
                        await calls.next()
                        inFlight -= 1
                        // The answer that freed the place may be the one the agent did not read: take no more.
                        if replies.closed { break reading }
                    }
                    inFlight += 1
                    // A call holds its share of the backlog until it is answered.
                    calls.addTask {
                        await replies.send(await self.handle(message))
                        backlog.release(size)
                    }
                    continue
                case .message(let message):
                    await replies.send(await handle(message))
                case .inexact(let message, let why):
                    await replies.send(refuseInexact(message, why: why))
                }
                backlog.release(size)
            }
            await calls.waitForAll()
        }
        if replies.closed { log("guard: the client stopped reading; ending") }
        await upstream.stop()
        // Answers that never reached the agent: it cannot know what they said (a write among them may
        // have run). What was decided is in the audit log; the exit status says the session ended unheard.
        if replies.closed { throw AgentStoppedReading(undelivered: replies.undelivered) }
    }

    /// The agent stopped reading the guard's answers (it closed its end, or read nothing for
    /// `ReplyWriter.stall` seconds): the guard ended with answers it could not deliver.
    public struct AgentStoppedReading: Error, CustomStringConvertible {
        public var undelivered: Int
        public var description: String {
            "the agent stopped reading the guard's answers: \(undelivered) answer\(undelivered == 1 ? " was" : "s were") not delivered "
                + "(what the guard decided for the calls among them is in the audit log: `rollout audit tail`)"
        }
    }

    /// How many tool calls are decided at once; the next waits for one of them to be answered.
    public static let maxCallsInFlight = 64
    /// The bytes of read lines that may wait to be handled or answered (two lines at the longest): past
    /// them the guard stops reading its input until calls are answered.
    public static let readBacklogBytes = 2 * LineSplitter.defaultMaxLength

    /// Writes answers to the agent whole, in the order they are handed over, from whichever call
    /// finishes. An answer the output takes at once, without any chance of blocking, is written on the
    /// caller's thread: nothing queued before it, and either a pipe that `poll` says has room (an answer
    /// of at most `PIPE_BUF` bytes then cannot block) or a socket written with `MSG_DONTWAIT` (Node's
    /// child processes get socket pairs). Any other answer, and any output of another kind (a terminal,
    /// a file), waits on a queue of its own, so an agent that reads slowly never holds one of the few
    /// threads the decisions run on.
    final class ReplyWriter: @unchecked Sendable {
        private let output: Int32
        private let queue: DispatchQueue
        private let lock = NSLock()
        private var failed = false
        /// Answers that could not be written, or were not tried once one could not.
        private var dropped = 0
        /// Answers handed to the queue and not yet written: while any is, the next waits behind it.
        private var queued = 0
        /// Seconds the agent may read nothing of a waiting answer before the guard counts it gone (a slow
        /// reader that keeps reading gets its answers whole, however long they take).
        static let stall = 30.0
        /// What the output is, read once: only a pipe or a socket is ever written on the caller's thread.
        private let kind: LineWriter.Kind

        init(output: Int32, queue: DispatchQueue = DispatchQueue(label: "rollout.guard.replies")) {
            self.output = output
            self.queue = queue
            kind = LineWriter.Kind(output)
        }

        /// Whether the agent stopped reading (an answer could not be written).
        var closed: Bool {
            lock.withLock { failed }
        }

        /// How many answers did not reach the agent.
        var undelivered: Int {
            lock.withLock { dropped }
        }

        /// Answers waiting on the queue (tests watch a slow reader's backlog).
        var backlog: Int {
            lock.withLock { queued }
        }

        /// Writes `reply` and returns once it is written (or cannot be): a call keeps its place among
        /// those in flight until its answer is out, so an agent that stops reading stops the guard from
        /// taking more calls instead of making it pile up answers.
        func send(_ reply: JSONRPCMessage?) async {
            guard let reply else { return }
            let line = reply.line
            await withCheckedContinuation { (written: CheckedContinuation<Void, Never>) in
                // Under the lock, the write at once and the hand-over to the queue: the queue's order is the
                // order answers were handed over, and no answer gets between another's first part and its rest.
                lock.withLock {
                    var rest = line
                    if queued == 0, !failed, let n = tryWrite(line) {
                        if n == line.count { return written.resume() }
                        if n > 0 {
                            rest.removeFirst(n)  // a socket took part: the rest goes through the queue, still first in line
                        } else if !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
                            failed = true
                            dropped += 1
                            return written.resume()
                        }
                    }
                    queued += 1
                    queue.async { [self, rest] in
                        var delivered = false
                        if !closed {
                            do {
                                try LineWriter.write(rest, to: output, kind: kind, timeout: Self.stall, sinceProgress: true)
                                delivered = true
                            } catch {
                                lock.withLock { failed = true }
                            }
                        }
                        lock.withLock {
                            queued -= 1
                            if !delivered { dropped += 1 }
                        }
                        written.resume()
                    }
                }
            }
        }

        /// One write that cannot block, or nil when the output offers none.
        private func tryWrite(_ line: [UInt8]) -> Int? {
            switch kind {
            case .pipe:
                // Whole answers only: a pipe with room takes up to `pipeChunk` bytes whole.
                guard line.count <= LineWriter.pipeChunk else { return nil }
                var poller = pollfd(fd: output, events: Int16(POLLOUT), revents: 0)
                guard poll(&poller, 1, 0) == 1, poller.revents & Int16(POLLOUT) != 0 else { return nil }
            case .socket:
                break
            case .nonBlocking, .other:
                return nil
            }
            return line.withUnsafeBytes { LineWriter.writeSome($0, to: output, kind: kind) }
        }
    }

    enum Incoming: Sendable {
        case message(JSONRPCMessage)
        /// A message holding a number a double cannot hold as written.
        case inexact(JSONRPCMessage, String)
        case invalid(JSONRPCError)
    }

    /// A call whose arguments hold a number the guard would round: what it decided on would not be what
    /// it forwarded, so it is refused (and recorded, for a tool call).
    func refuseInexact(_ message: JSONRPCMessage, why: String) -> JSONRPCMessage? {
        if case .notification("tools/call", let params) = message {
            let name = params?["name"]?.stringValue ?? ""
            recordUnreadable("\(name.isEmpty ? "a tools/call" : name) (sent as a notification, no id): \(why); not run, nothing was forwarded", tool: name)
            return nil
        }
        guard case .request(let id, let method, let params) = message else { return nil }
        guard method == "tools/call", let name = params?["name"]?.stringValue else {
            if method == "tools/call" { recordUnreadable("a tools/call without a tool name, with \(why), was refused; nothing was forwarded") }
            return .error(id: id, code: JSONRPCError.invalidParams, message: why, data: nil)
        }
        let call = ToolCall(tool: name, arguments: params?["arguments"] ?? [:])
        do {
            let decision = try guard_.refuseUnpoliced(call, principal: options.principal, code: .invalidArguments,
                message: "\(name): \(why); nothing was forwarded")
            return .response(id: id, result: Self.result(decision))
        } catch {
            return .response(id: id, result: Self.error("internal_error: the guard could not record a decision (\(error)); nothing was forwarded"))
        }
    }

    /// Records the refusal of something that may have been a call but is not one the guard can read (an
    /// unreadable line, a batch, a call without a name): every refusal is in the log, these too, under the
    /// session's principal; `tool` "" is recorded as no name.
    func recordUnreadable(_ message: String, tool: String = "") {
        do {
            _ = try guard_.refuseUnpoliced(ToolCall(tool: tool, arguments: [:]), principal: options.principal, code: .invalidArguments, message: message)
        } catch {
            log("guard: a refusal could not be recorded (\(error)): \(message)")
        }
    }

    /// The answer to one message (nil for notifications and stray responses).
    public func handle(_ message: JSONRPCMessage) async -> JSONRPCMessage? {
        if case .notification("tools/call", let params) = message {
            // A call sent as a notification gets no answer (JSON-RPC), so it is not run: a write the agent
            // cannot learn the outcome of would be retried blind. Refused all the same, and recorded.
            let call = ToolCall(tool: params?["name"]?.stringValue ?? "", arguments: params?["arguments"] ?? [:])  // "": recorded as (no name)
            do {
                _ = try guard_.refuseUnpoliced(call, principal: options.principal, code: .invalidArguments,
                    message: "\(call.tool.isEmpty ? "a tools/call" : call.tool) was sent as a notification (no id), which gets no answer; not run, nothing was forwarded")
            } catch {
                log("rollout: a tools/call sent as a notification could not be recorded (\(error)); it was not run")
            }
            return nil
        }
        if case .notification(let method, let params) = message, CallLikeMessage.resemblesCall(method: method, params: params) {
            recordUnreadable(CallLikeMessage.refusal(method: method, params: params, notification: true), tool: params?["name"]?.stringValue ?? "")
            return nil
        }
        guard case .request(let id, let method, let params) = message else { return nil }
        switch method {
        case "initialize":
            let requested = params?["protocolVersion"]?.stringValue ?? "2025-06-18"
            return .response(id: id, result: [
                "protocolVersion": .string(requested),
                "capabilities": ["tools": ["listChanged": false]],
                "serverInfo": ["name": .string(options.serverName), "version": "0.2.0"],
                "instructions": "Writes are checked against the team's write policy; refusals name the control that said no.",
            ])
        case "ping":
            return .response(id: id, result: [:])
        case "tools/list":
            return .response(id: id, result: ["tools": .array(visibleTools().map(listing))])
        case "tools/call":
            guard let name = params?["name"]?.stringValue else {
                let named = params?["name"].map { " (its name is \($0.typeNameWithArticle))" } ?? (params.map { " (its params are \($0.typeNameWithArticle))" } ?? "")
                recordUnreadable("a tools/call without a tool name\(named) was refused; nothing was forwarded")
                return .error(id: id, code: JSONRPCError.invalidParams, message: "tools/call needs a tool name", data: nil)
            }
            let arguments = params?["arguments"] ?? [:]
            return .response(id: id, result: await call(name, arguments: arguments.isNull ? [:] : arguments))
        default:
            if CallLikeMessage.resemblesCall(method: method, params: params) {
                recordUnreadable(CallLikeMessage.refusal(method: method, params: params, notification: false), tool: params?["name"]?.stringValue ?? "")
            }
            return .error(id: id, code: JSONRPCError.methodNotFound, message: "the guard serves tools only; no \(method)", data: nil)
        }
    }

    /// The upstream's tools this principal may see now: write tools whose stage is not off, and reads.
    func visibleTools() -> [MCPTool] {
        upstreamTools.filter { tool in
            let entries = policy.entries(forWireName: tool.name)
            if !entries.isEmpty {
                return entries.contains { guard_.stages.stage(tenant: options.principal.tenant, tool: $0.name) != .off }
            }
            return policy.read(forWireName: tool.name) != nil
        }
    }

    /// A tool as the agent sees it: the upstream's listing, with the arguments the policy does not declare
    /// taken out of its input schema (they would be refused) and the guard's own arguments (a reason, an
    /// idempotency key for a server that takes none) put in, required as the policy requires them.
    func listing(_ tool: MCPTool) -> JSONValue {
        var listed = tool.listed
        guard case .object(var schema) = tool.inputSchema else { return listed }
        var properties = schema["properties"]?.objectValue ?? [:]
        var required = (schema["required"]?.arrayValue ?? []).compactMap(\.stringValue)
        if let entry = policy.entries(forWireName: tool.name).first {
            let declared = Set(policy.entries(forWireName: tool.name).flatMap { $0.declaredPointers.compactMap(\.tokens.first) })
            if entry.extraArguments == .refuse { properties = properties.filter { declared.contains($0.key) } }
            for name in entry.guardArguments where properties[name] == nil {
                let isReason = entry.binding.reason?.tokens.first == name
                let isKey = entry.binding.idempotencyKey?.tokens.first == name
                let what = isReason ? "Why this write is needed, in words (recorded in the audit log)."
                    : isKey ? "A fresh unique string per write; reuse it only to retry the same write." : "Read by the guard, not passed on."
                properties[name] = ["type": "string", "description": .string(what)]
                if (isReason && entry.reason.required) || (isKey && entry.idempotencyRequired) { required.append(name) }
            }
        } else if let read = policy.read(forWireName: tool.name), let allowed = read.arguments {
            properties = properties.filter { allowed.contains($0.key) }
        }
        schema["properties"] = .object(properties)
        schema["required"] = .array(required.filter { properties[$0] != nil }.map(JSONValue.string))
        listed = JSONPointer(tokens: ["inputSchema"]).setting(.object(schema), in: listed)
        return listed
    }

    /// One tool call, as an MCP result object: a write meets the guard, a read its checks, anything else
    /// is refused.
    func call(_ name: String, arguments: JSONValue) async -> JSONValue {
        let call = ToolCall(tool: name, arguments: arguments)
        let principal = options.principal
        do {
            if policy.entries(forWireName: name).isEmpty {
                if policy.read(forWireName: name) != nil {
                    switch try await guard_.read(call, principal: principal) {
                    case .answer(let result): return Self.withheldLeaks(result)
                    case .refused(let decision): return Self.result(decision)
                    case .failed(let failure): return Self.error("backend_error: the read failed: \(failure)")
                    }
                }
                if upstreamTools.contains(where: { $0.name == name }) {
                    let decision = try guard_.refuseUnpoliced(call, principal: principal, code: .toolUndescribed,
                        message: "'\(name)' is a tool of the upstream that the policy does not describe (neither a write tool nor a read), so it is refused; describe it in policy.yaml to allow it")
                    return Self.result(decision)
                }
            }
            return Self.result(try await guard_.decide(call, principal: principal))
        } catch let error as GuardError {
            log("guard: \(error)")
            if case .outcomeNotRecorded = error { return Self.error("internal_error: \(error)") }
            return Self.error("internal_error: \(error)")
        } catch {
            log("guard: the decision could not be recorded: \(error)")
            return Self.error("internal_error: the guard could not record a decision (\(error)); nothing was forwarded")
        }
    }

    /// An upstream answer that carries internals (SQL and its parameters, a stack trace, file paths) is not
    /// passed on: the agent gets an error saying so.
    static func withheldLeaks(_ result: JSONValue) -> JSONValue {
        guard let leak = leak(in: result) else { return result }
        return error("upstream_error: the upstream's answer held internal details (\(leak.split(separator: ":").first ?? "internals")), so the guard withheld it; the call's outcome is in the audit log")
    }

    /// What of an upstream answer's internals the leak detector finds: in its text content as one text (as
    /// the agent reads it), then in every string of the answer as decoded.
    static func leak(in result: JSONValue) -> String? {
        LeakDetector.leak(in: MCPResultText.text(result)) ?? LeakDetector.leak(in: result)
    }

    /// A decision as the agent sees it: the upstream's own answer for an executed or replayed write, an
    /// error naming the decision code and what to do for a refusal.
    public static func result(_ d: Decision) -> JSONValue {
        // A key that answers with a refusal (the upstream's, or a mismatch) answers as the first time did:
        // an error naming that decision, not the upstream's bare answer.
        if d.code == .replayed, d.result["ok"] == .bool(false), let original = d.result["decision"]?.stringValue {
            var structured: [String: JSONValue] = ["decision": .string(original), "message": .string(d.message), "audit_id": .number(Double(d.auditSeq))]
            if let upstream = d.result["upstream"], LeakDetector.leak(in: upstream) == nil { structured["upstream"] = upstream }
            return ["content": [["type": "text", "text": .string("\(original): \(d.message)")]], "structuredContent": .object(structured), "isError": true]
        }
        if d.code == .executed || d.code == .replayed, let upstream = d.result["upstream"] {
            // A write that ran is never answered as an error, whatever its answer held: an agent told its
            // write failed may send it again under another key, and it would run twice.
            guard let leak = leak(in: upstream) else { return upstream }
            let text = "\(d.code.rawValue): the write went through (audit event \(d.auditSeq)); the upstream's answer held internal details "
                + "(\(leak.split(separator: ":").first ?? "internals")), so the guard withheld it"
            let structured: [String: JSONValue] = ["decision": .string(d.code.rawValue), "audit_id": .number(Double(d.auditSeq)), "answer_withheld": true]
            return ["content": [["type": "text", "text": .string(text)]], "structuredContent": .object(structured), "isError": false]
        }
        switch d.code {
        case .executed, .replayed:
            return ["content": [["type": "text", "text": .string(d.result.canonicalText)]], "structuredContent": d.result, "isError": false]
        case .pendingApproval, .shadowed, .dryRun:
            var structured = d.result.objectValue ?? [:]
            structured["decision"] = .string(d.code.rawValue)
            structured["audit_id"] = .number(Double(d.auditSeq))
            return ["content": [["type": "text", "text": .string("\(d.code.rawValue): \(d.message)")]], "structuredContent": .object(structured), "isError": false]
        default:
            var structured: [String: JSONValue] = ["decision": .string(d.code.rawValue), "message": .string(d.message), "audit_id": .number(Double(d.auditSeq))]
            if let upstream = d.result["upstream"], LeakDetector.leak(in: upstream) == nil { structured["upstream"] = upstream }
            return ["content": [["type": "text", "text": .string("\(d.code.rawValue): \(d.message)")]], "structuredContent": .object(structured), "isError": true]
        }
    }

    static func error(_ text: String) -> JSONValue {
        ["content": [["type": "text", "text": .string(text)]], "isError": true]
    }
}
