import RolloutCore

extension DecisionContext {
    /// The first place a condition of the tool (its approval's `when`, its rules) reads in its lookups'
    /// answers with no default, where the answer holds nothing, as the refusal says it; nil when every
    /// such place is there. A misspelt member (`lookup.order.stauts`), or an answer of another shape than
    /// the policy's author saw, read as null: a rule over it never fired, and the write it refuses ran
    /// (helper-84). A `var` with a default, `missing` and `missing_some` say what absence means, and an
    /// optional lookup the upstream refused is null by declaration: those are not asked.
    func lookupPathMissing() -> String? {
        var conditions: [(String, JsonLogicRule)] = tool.approval.map { [("the approval condition", $0.when)] } ?? []
        conditions += tool.rules.map { ("rule \($0.name)", $0.when) }
        let answers = JSONValue.object(lookups)
        for (name, when) in conditions {
            for path in when.rootPathsWithoutDefault where path.first == "lookup" && path.count > 1 {
                if let lookup = tool.lookups.first(where: { $0.name == path[1] }), lookup.optional, lookups[lookup.name]?.isNull != false { continue }
                guard JsonLogicRule.value(at: Array(path.dropFirst()), in: answers) == nil else { continue }
                let answered = lookups[path[1]] == nil ? "there is no lookup \(path[1])" : "the answer of lookup \(path[1]) holds nothing there"
                return "\(tool.name): \(name) reads \(path.joined(separator: ".")), and \(answered): the guard cannot decide from what is not there (a default, {\"var\": [path, default]}, says what absence means)"
            }
        }
        return nil
    }
}
