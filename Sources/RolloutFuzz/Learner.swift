import RolloutCore

/// Learns a target through its read tools before the attacks: starting from the subjects (and what the
/// policy's lookups need), it calls every read the policy describes with values it has seen under the
/// read's parameter names, and learns from each answer, round after round, until nothing new can be
/// read or the budget is spent. The reads are real calls, counted with the others.
enum Learner {
    /// A read as the adversary can make it: the answer JSON and whether the target took the call; nil
    /// when the target has no such tool.
    typealias Channel = (ToolCall) async throws -> (answer: JSONValue, accepted: Bool)?

    static func learn(policy: Policy, schemas: [String: JSONValue], knowledge: inout Knowledge, budget: Int = 300,
                      read: Channel) async throws -> Int {
        // The reads the policy describes (exactly named) and the tools its lookups call.
        var tools = policy.reads.filter { !$0.isGlob }.map(\.pattern)
        for tool in policy.tools { for lookup in tool.lookups where !tools.contains(lookup.tool) { tools.append(lookup.tool) } }
        tools = tools.filter { schemas[$0] != nil }
        var made = 0
        var progress = true
        var round = 0
        while progress && made < budget && round < 6 {
            progress = false
            round += 1
            for tool in tools {
                let schema = schemas[tool] ?? [:]
                let properties = schema["properties"]?.objectValue ?? [:]
                let required = (schema["required"]?.arrayValue ?? []).compactMap(\.stringValue).filter { properties[$0] != nil || true }
                let allowed = policy.read(forWireName: tool)?.arguments
                guard required.allSatisfy({ allowed?.contains($0) ?? true }) else { continue }
                // Only reads whose parameters are all learned, or that take none.
                let params = required.isEmpty ? [] : required
                var combos: [[String: JSONValue]] = [[:]]
                var complete = true
                for param in params {
                    let values = Array(knowledge.values(param).filter { $0.stringValue != nil || $0.intValue != nil }.prefix(30))
                    if values.isEmpty { complete = false; break }
                    combos = combos.flatMap { combo in values.map { combo.merging([param: $0]) { $1 } } }
                    if combos.count > 60 { combos = Array(combos.prefix(60)) }
                }
                guard complete else { continue }
                var perTool = 0
                for combo in combos where made < budget && perTool < 40 {
                    let arguments = JSONValue.object(combo)
                    guard !knowledge.hasRead(tool, arguments) else { continue }
                    guard let result = try await read(ToolCall(tool: tool, arguments: arguments)) else { break }
                    made += 1
                    perTool += 1
                    knowledge.learn(tool: tool, arguments: arguments, answer: result.answer, accepted: result.accepted)
                    progress = true
                }
            }
        }
        return made
    }
}
