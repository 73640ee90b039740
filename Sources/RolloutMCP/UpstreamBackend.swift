import Foundation
import RolloutCore
import RolloutGuard
import RolloutStore

/// The guard proxy's write backend: a decided write is forwarded, as the agent sent it, to the
/// upstream MCP server; rows are read from its database when `--observe sqlite:PATH` names it, so the
/// audit log holds real before and after values (and "before unknown" when nothing can be read).
public final class UpstreamBackend: WriteBackend, @unchecked Sendable {
    public let connection: MCPConnection
    public let observer: StateObserver?
    /// Patterns (beyond MCP's isError) that mark an upstream answer as a refusal.
    let refusals: RefusalDetector

    public init(connection: MCPConnection, observer: StateObserver?, refusalPatterns: [String] = []) {
        self.connection = connection
        self.observer = observer
        refusals = RefusalDetector(policyPatterns: refusalPatterns)
    }

    /// A guard whose writes go to `connection`'s server, with its ledger and audit log in `store`:
    /// what `rollout guard` runs, and what `rollout approve --upstream` runs a queued write with.
    public static func makeGuard(policy: Policy, stages: any StageSource, store: AuditStore, connection: MCPConnection,
                                 observe: String?) throws -> Guard {
        let backend = UpstreamBackend(connection: connection, observer: try observe.map { try StateObserver(spec: $0) },
                                      refusalPatterns: policy.refusalPatterns)
        return Guard(policy: policy, stages: stages, environment: StoreEnvironment(store: store, backend: backend))
    }

    public var observesRows: Bool { observer != nil }

    public func rows(model: ModelPolicy, keys: [JSONValue]) throws -> [[String: JSONValue]?] {
        guard let observer else { return keys.map { _ in [:] } }
        do {
            return try observer.rows(model, keys: keys)
        } catch {
            throw BackendError("cannot read \(model.table) from the observed database: \(error)")
        }
    }

    public func forward(_ call: ToolCall, model: ModelPolicy, operation: WriteOperation) throws -> ForwardedWrite? {
        let connection = self.connection
        let result: MCPToolResult
        do {
            result = try blockingAwait { try await connection.callTool(call.tool, arguments: call.arguments) }
        } catch {
            throw BackendError("the upstream server failed: \(error)")
        }
        if case .refused(let code, let message) = refusals.classify(result) {
            throw BackendError("the upstream refused (\(code)): \(message)")
        }
        return ForwardedWrite(result: result.json, createdKey: operation == .create ? Self.createdKey(result, model: model) : nil)
    }

    /// The new row's key from the upstream's answer: structured content or JSON text, at the model's
    /// key or under a wrapping object (`{"id": 7}`, `{"row": {"id": 7}}`, `{"data": {"id": 7}}`).
    static func createdKey(_ result: MCPToolResult, model: ModelPolicy) -> JSONValue? {
        let candidates = [result.structured, try? JSONValue.parse(result.text)].compactMap { $0 }
        for value in candidates {
            if let key = value[model.key], !key.isNull { return key }
            for wrapper in ["row", "data", "record", "result", "created"] {
                if let key = value[wrapper]?[model.key], !key.isNull { return key }
            }
        }
        return nil
    }

    // Rollback writes row by row; an upstream is written only through its own tools.
    public func insert(model: ModelPolicy, values: [String: JSONValue]) throws -> JSONValue {
        throw BackendError("writing \(model.name) rows directly is not possible through an MCP upstream: only its own tools write")
    }

    public func update(model: ModelPolicy, key: JSONValue, values: [String: JSONValue]) throws {
        throw BackendError("writing \(model.name) rows directly is not possible through an MCP upstream: only its own tools write")
    }

    public func delete(model: ModelPolicy, key: JSONValue) throws {
        throw BackendError("writing \(model.name) rows directly is not possible through an MCP upstream: only its own tools write")
    }
}
