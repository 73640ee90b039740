import RolloutCore

/// Step 3 of the pipeline: reads a call's arguments through the tool's binding into a canonical
/// `WriteRequest`. Pure. Arguments the binding does not name are ignored, so an argument such as
/// `tenant`, `approved` or `approver` can never change who is asking or what is allowed.
enum RequestBinder {
    static func bind(_ call: ToolCall, to tool: ToolPolicy) -> Result<WriteRequest, BindingFailure> {
        guard case .object = call.arguments else {
            return .failure(BindingFailure("the arguments are a \(call.arguments.typeName), expected an object"))
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
            guard isKey(key) else { return .failure(BindingFailure("the key at \(pointer) is a \(key.typeName), expected a string or an integer")) }
            targets = [key]
        case .bulkUpdate:
            guard let pointer = binding.targets else { return .failure(BindingFailure("the policy binds no target keys")) }
            guard case .array(let keys)? = pointer.resolve(in: args) else {
                return .failure(BindingFailure("the keys of the rows to update are missing at \(pointer), expected a list"))
            }
            guard !keys.isEmpty else { return .failure(BindingFailure("the list of keys at \(pointer) is empty")) }
            if let bad = keys.first(where: { !isKey($0) }) {
                return .failure(BindingFailure("a key at \(pointer) is a \(bad.typeName), expected strings or integers"))
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
                return .failure(BindingFailure("the field values at \(pointer) are a \(other.typeName), expected an object"))
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
            default: return .failure(BindingFailure("the reason at \(pointer) is a \(value.typeName), expected a string"))
            }
        }
        var key: String?
        if let pointer = binding.idempotencyKey, let value = pointer.resolve(in: args) {
            switch value {
            case .string(let s): key = s.isEmpty ? nil : s
            case .null: break
            default: return .failure(BindingFailure("the idempotency key at \(pointer) is a \(value.typeName), expected a string"))
            }
        }
        var dryRun = false
        if let pointer = binding.dryRun, let value = pointer.resolve(in: args) {
            switch value {
            case .bool(let b): dryRun = b
            case .null: break
            default: return .failure(BindingFailure("dry_run at \(pointer) is a \(value.typeName), expected true or false"))
            }
        }
        return .success(WriteRequest(
            tool: tool.name, model: tool.model, operation: tool.operation, targets: targets, fields: fields,
            reason: reason, idempotencyKey: key, dryRun: dryRun, call: call))
    }

    static func isKey(_ value: JSONValue) -> Bool {
        switch value {
        case .string(let s): !s.isEmpty
        case .number: value.intValue != nil
        default: false
        }
    }
}

struct BindingFailure: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
