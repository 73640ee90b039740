import RolloutCore

/// Step 3 of the pipeline: reads a call's arguments through the tool's binding into a canonical
/// `WriteRequest`, and finds the arguments the tool does not declare. Pure.
enum RequestBinder {
    /// Every place in `arguments` that none of the tool's declared pointers covers, as JSON pointers,
    /// sorted. A container on the way to a declared pointer is walked into; anything else undeclared is
    /// unbound, however harmless its name (`tenant_id`, `approved_by`, `status`).
    static func unboundArguments(_ arguments: JSONValue, tool: ToolPolicy) -> [String] {
        // Nearly every call names only declared top-level places: nothing to walk.
        if case .object(let members) = arguments, tool.declaresEveryMember(of: members) { return [] }
        let declared = tool.declaredPointers
        var unbound: [String] = []
        // `inList` marks the steps that index a list: a declared `*` matches only those.
        func walk(_ value: JSONValue, _ path: [String], _ inList: [Bool]) {
            if !path.isEmpty, declared.contains(where: { $0.covers(path, inList: inList) }) { return }
            let passes = path.isEmpty || declared.contains(where: { $0.passesThrough(path, inList: inList) })
            switch value {
            case .object(let members) where passes:
                for key in members.keys.sorted() { walk(members[key]!, path + [key], inList + [false]) }
            case .array(let items) where passes:
                for (i, item) in items.enumerated() { walk(item, path + [String(i)], inList + [true]) }
            case .null where passes:
                return  // nothing on the way to a declared place
            default:
                unbound.append(JSONPointer(tokens: path).description)
            }
        }
        walk(arguments, [], [])
        return unbound
    }

    static func bind(_ call: ToolCall, to tool: ToolPolicy) -> Result<WriteRequest, BindingFailure> {
        guard case .object = call.arguments else {
            return .failure(BindingFailure("the arguments are \(call.arguments.typeNameWithArticle), expected an object"))
        }
        let binding = tool.binding
        let args = call.arguments

        var targets: [JSONValue] = []
        switch tool.operation {
        case .update, .delete:
            guard let pointer = binding.target else { return .failure(BindingFailure("the policy binds no target key")) }
            guard let key = pointer.resolve(in: args), !key.isNull else {
                return .failure(BindingFailure("the key of the row to \(tool.operation.rawValue) is missing at \(pointer)"))
            }
            if let problem = keyProblem(key) { return .failure(BindingFailure("the key at \(pointer) is \(problem)")) }
            targets = [key]
        case .bulkUpdate:
            guard let pointer = binding.targets else { return .failure(BindingFailure("the policy binds no target keys")) }
            guard case .array(let keys)? = pointer.resolve(in: args) else {
                return .failure(BindingFailure("the keys of the rows to update are missing at \(pointer), expected a list"))
            }
            guard !keys.isEmpty else { return .failure(BindingFailure("the list of keys at \(pointer) is empty")) }
            if let problem = keys.lazy.compactMap(keyProblem).first {
                return .failure(BindingFailure("a key at \(pointer) is \(problem)"))
            }
            guard Set(keys).count == keys.count else { return .failure(BindingFailure("the keys at \(pointer) repeat a row")) }
            targets = keys
        case .create:
            break
        }

        var fields: [String: JSONValue] = [:]
        switch binding.fields {
        case .object(let pointer):
            switch pointer.resolve(in: args) {
            case .object(let values)?: fields = values
            case nil, .null?:
                if tool.operation != .delete {
                    return .failure(BindingFailure("the field values are missing at \(pointer), expected an object"))
                }
            case let other?:
                return .failure(BindingFailure("the field values at \(pointer) are \(other.typeNameWithArticle), expected an object"))
            }
        case .each(let pointers):
            for (field, pointer) in pointers {
                if let value = pointer.resolve(in: args) { fields[field] = value }
            }
        }
        if tool.operation != .delete, fields.isEmpty {
            return .failure(BindingFailure("there are no field values to write"))
        }

        var reason: String?
        if let pointer = binding.reason, let value = pointer.resolve(in: args) {
            switch value {
            case .string(let s): reason = s
            case .null: break
            default: return .failure(BindingFailure("the reason at \(pointer) is \(value.typeNameWithArticle), expected a string"))
            }
        }
        var key: String?
        if let pointer = binding.idempotencyKey, let value = pointer.resolve(in: args) {
            switch value {
            case .string(let s): key = s.isEmpty ? nil : s
            case .null: break
            default: return .failure(BindingFailure("the idempotency key at \(pointer) is \(value.typeNameWithArticle), expected a string"))
            }
        }
        var dryRun = false
        if let pointer = binding.dryRun, let value = pointer.resolve(in: args) {
            switch value {
            case .bool(let b): dryRun = b
            case .null: break
            default: return .failure(BindingFailure("dry_run at \(pointer) is \(value.typeNameWithArticle), expected true or false"))
            }
        }
        return .success(WriteRequest(
            tool: tool.name, model: tool.model, operation: tool.operation, targets: targets, fields: fields,
            reason: reason, idempotencyKey: key, dryRun: dryRun, call: call))
    }

    /// Why `value` cannot name a row, or nil when it can: a key is a non-empty string or a whole number
    /// JSON holds exactly (below 2^53 in size).
    static func keyProblem(_ value: JSONValue) -> String? {
        let expected = "; a key is a non-empty string or a whole number below 2^53 in size"
        switch value {
        case .string(let s): return s.isEmpty ? "an empty string" + expected : nil
        case .number(let d): return value.intValue != nil ? nil : JSONValue.formatNumber(d) + expected
        default: return value.typeNameWithArticle + expected
        }
    }
}

struct BindingFailure: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
