import RolloutCore

/// Step 1 of the pipeline: which policy entry a call is. Names match exactly: no case folding, no
/// trimming, no prefixes, so a look-alike or a namespaced name is unknown, never a near match.
enum ToolResolver {
    enum Resolution {
        case entry(ToolPolicy)
        case unknown(String)
    }

    static func resolve(_ call: ToolCall, in policy: Policy) -> Resolution {
        let entries = policy.entries(forWireName: call.tool)
        guard !entries.isEmpty else {
            return .unknown("'\(call.tool)' is not a write tool of the policy; only tools it names exactly can write")
        }
        if entries.count == 1, entries[0].binding.model == nil { return .entry(entries[0]) }
        // A generic tool: the model argument picks the entry.
        let pointer = entries.compactMap(\.binding.model).first
        guard let pointer, let model = pointer.resolve(in: call.arguments)?.stringValue else {
            let models = entries.map(\.model).joined(separator: ", ")
            return .unknown("'\(call.tool)' writes only the models \(models); pass one at \(pointer?.description ?? "/model")")
        }
        guard let entry = entries.first(where: { $0.model == model }) else {
            let models = entries.map(\.model).joined(separator: ", ")
            return .unknown("'\(call.tool)' on model '\(model)' is not in the policy; it may write \(models)")
        }
        return .entry(entry)
    }
}
