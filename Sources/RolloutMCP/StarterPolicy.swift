import Foundation
import RolloutCore

/// A starter policy for an MCP server, from what its `tools/list` says: every tool described, as a
/// write tool or a read as `ToolClassifier` suggests, with models, fields, bindings and controls guessed
/// from the input schemas. Everything guessed is marked `REVIEW`; the result passes lint, so a person
/// can fuzz the server with it at once and tighten it from the findings (`rollout init --from-mcp`).
public enum StarterPolicy {
    /// A write tool's reading of its schema.
    struct WriteShape {
        var tool: MCPTool
        var evidence: String
        var model: String
        /// The argument that names the target (`id`, or `ids` for a bulk write).
        var key: String?
        /// The model's key: `id` for a bulk write over `ids`.
        var modelKey: String?
        var operation: String
        var fields: [(name: String, rule: String)]
        /// The argument that holds the fields as an object (`/data`), when the schema has one.
        var container: String?
        var reasonArgument: String?
        var keyArgument: String?
        var tenantArgument: String?
    }

    static let reasonNames = ["reason", "justification", "rationale"]
    static let keyNames = ["idempotency_key", "idempotencykey", "request_id", "client_token"]
    static let tenantNames = ["tenant", "tenant_id", "org", "org_id", "organization_id", "account_id", "workspace_id"]
    static let containerNames = ["data", "values", "fields", "changes", "patch", "updates"]

    /// The policy text for `tools`, listed by the server `command` runs.
    public static func yaml(tools: [MCPTool], command: String, date: Date = Date()) -> String {
        var writes: [WriteShape] = []
        var reads: [(MCPTool, ToolClassifier.Suggestion)] = []
        for tool in tools.sorted(by: { $0.name < $1.name }) {
            let suggestion = ToolClassifier.suggest(tool)
            if suggestion.kind == .read { reads.append((tool, suggestion)) } else { writes.append(shape(tool, evidence: suggestion.evidence)) }
        }
        let day = ISO8601DateFormatter.string(from: date, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])
        var out: [String] = [
            "# A starter policy written by `rollout init --from-mcp` on \(day) from the tools/list of:",
            "#   \(command)",
            "# Every tool the server lists is described below: as a write tool (under tools:) or a read (under",
            "# reads:), as suggested by its MCP annotations, its name and its schema. Lines marked REVIEW are guesses:",
            "# check each one against what the tool really does, then run `rollout lint` and `rollout fuzz --mcp`.",
            "version: 1",
            "",
            "defaults:",
            "  reason: {required: true, min_length: 12}",
            "  idempotency: required",
            "  cap: {max: 200, per: 1h}",
            "",
        ]
        // Models: one per guessed resource, with the fields of every write tool on it.
        var models: [(name: String, key: String?, tenant: String?, fields: [(name: String, rule: String)])] = []
        for write in writes {
            if let i = models.firstIndex(where: { $0.name == write.model }) {
                for field in write.fields where !models[i].fields.contains(where: { $0.name == field.name }) { models[i].fields.append(field) }
                if models[i].tenant == nil { models[i].tenant = write.tenantArgument }
            } else {
                models.append((write.model, write.modelKey, write.tenantArgument, write.fields))
            }
        }
        if !models.isEmpty {
            out.append("models:")
            for model in models {
                let key = model.key ?? "id"
                out.append("  \(model.name):                        # REVIEW: the resource these tools write")
                out.append("    table: \(snake(model.name))s")
                out.append("    key: \(quoted(key))")
                if let tenant = model.tenant {
                    out.append("    tenant_field: \(quoted(tenant))")
                } else {
                    out.append("    tenant_field: none                # REVIEW: the server's arguments name no tenant; the guard's --tenant scopes nothing here")
                }
                out.append("    fields:")
                var fields = model.fields.filter { $0.name != model.tenant }
                if !fields.contains(where: { $0.name == key }) { fields.insert((key, "{type: string}"), at: 0) }
                for field in fields { out.append("      \(quoted(field.name)): \(field.rule)") }
            }
            out.append("")
            out.append("tools:")
            for write in writes { out.append(contentsOf: toolLines(write)) }
            out.append("")
        } else {
            out.append("tools: {}                           # REVIEW: no tool looks like a write")
            out.append("")
        }
        out.append("# Reads: tools the agent may call that change nothing. Any tool in neither list is hidden and refused.")
        if reads.isEmpty {
            out.append("reads: {}")
        } else {
            out.append("reads:")
            for (tool, suggestion) in reads {
                let args = properties(tool).map(\.name)
                out.append("  \(quoted(tool.name)): {args: [\(args.map(quoted).joined(separator: ", "))]}   # REVIEW: suggested read (\(suggestion.evidence))")
            }
        }
        out.append("")
        return out.joined(separator: "\n")
    }

    static func toolLines(_ write: WriteShape) -> [String] {
        var lines = ["  \(quoted(write.tool.name)):                # REVIEW: suggested write (\(write.evidence))"]
        if let description = write.tool.description?.split(separator: "\n").first {
            lines.append("    description: \(quoted(String(description.prefix(160))))")
        }
        lines.append("    model: \(write.model)")
        lines.append("    operation: \(write.operation)             # REVIEW: create | update | delete | bulk_update")
        let writable = write.operation == "delete" ? [] : write.fields.map(\.name).filter { $0 != write.modelKey && $0 != write.tenantArgument }
        if write.operation != "delete" {
            if writable.isEmpty {
                lines.append("    writable: []                    # REVIEW: the schema does not say which fields /\(write.container ?? "") may hold")
            } else {
                lines.append("    writable: [\(writable.map(quoted).joined(separator: ", "))]   # REVIEW: narrow to what the agent needs")
            }
        }
        var bind: [String] = []
        if let key = write.key, write.operation != "create" {
            bind.append(write.operation == "bulk_update" ? "targets: /\(key)" : "target: /\(key)")
        }
        if let container = write.container {
            bind.append("fields: /\(container)")
        } else if !writable.isEmpty {
            bind.append("fields: {\(writable.map { "\(quoted($0)): /\($0)" }.joined(separator: ", "))}")
        }
        var guardArgs: [String] = []
        if let reason = write.reasonArgument { bind.append("reason: /\(reason)") } else {
            bind.append("reason: /justification")
            guardArgs.append("justification")
        }
        if let key = write.keyArgument { bind.append("idempotency_key: /\(key)") } else {
            bind.append("idempotency_key: /idempotency_key")
            guardArgs.append("idempotency_key")
        }
        bind.append("dry_run: null")
        lines.append("    bind: {\(bind.joined(separator: ", "))}")
        if !guardArgs.isEmpty {
            lines.append("    guard_args: [\(guardArgs.joined(separator: ", "))]   # the server takes no reason or key: the guard takes and records them")
        }
        let others = properties(write.tool).map(\.name).filter { name in
            name != write.key && name != write.container && name != write.reasonArgument && name != write.keyArgument
                && name != write.tenantArgument && !writable.contains(name)
        }
        if !others.isEmpty {
            lines.append("    args:")
            for property in properties(write.tool) where others.contains(property.name) {
                lines.append("      \(quoted(property.name)): \(property.rule)   # REVIEW: allowed values")
            }
        }
        lines.append("")
        return lines
    }

    /// How a write tool's schema reads: its key, its operation, its fields and its control arguments.
    static func shape(_ tool: MCPTool, evidence: String) -> WriteShape {
        let props = properties(tool)
        let required = Set(tool.inputSchema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        let names = props.map(\.name)
        let words = NameWords.split(tool.name)
        let verb: String
        if words.contains(where: { ["delete", "remove", "destroy", "purge", "drop"].contains($0) }) {
            verb = "delete"
        } else if words.contains(where: { ["create", "add", "insert", "new", "book", "issue", "place", "register", "submit"].contains($0) }) {
            verb = "create"
        } else {
            verb = "update"
        }
        let container = props.first { containerNames.contains($0.name.lowercased()) && $0.type == "object" }?.name
        // A `reason` with a list of values is data (a cancellation reason), not the justification of the call.
        let reason = props.first { reasonNames.contains($0.name.lowercased()) && !$0.rule.contains(" in: [") }?.name
        let keyArg = names.first { keyNames.contains($0.lowercased()) }
        let tenant = names.first { tenantNames.contains($0.lowercased()) }
        // The key: a required id (an `ids` list makes a bulk write), else the first required scalar argument.
        let idCandidates = props.filter { p in
            let n = p.name.lowercased()
            return (n == "id" || n.hasSuffix("_id") || n == "ids" || n.hasSuffix("_ids")) && n != tenant?.lowercased() && n != keyArg?.lowercased()
        }
        var key = idCandidates.first { required.contains($0.name) && $0.type != "array" }?.name
        var operation = verb
        if key == nil, let ids = idCandidates.first(where: { required.contains($0.name) && $0.type == "array" && ($0.name == "ids" || $0.name.hasSuffix("_ids")) && !$0.name.contains("item") }) {
            key = ids.name
            operation = "bulk_update"
        }
        if key == nil && verb != "create" { operation = "create" }
        if verb == "create" { key = nil }
        // The model: named after the key (order_id -> Order), else after the tool's nouns.
        var modelName: String
        if let key, key.lowercased() != "id", key.lowercased() != "ids" {
            modelName = pascal(String(key.dropLast(key.hasSuffix("_ids") ? 4 : 3)))
        } else {
            let nouns = words.filter { w in !ToolClassifier.writeVerbs.contains(w) && !ToolClassifier.readVerbs.contains(w) }
            modelName = pascal(nouns.last.map { $0.hasSuffix("s") && $0.count > 3 ? String($0.dropLast()) : $0 } ?? "Record")
        }
        if modelName.isEmpty { modelName = "Record" }
        var fields: [(String, String)] = []
        if container == nil {
            for p in props where p.name != key && p.name != reason && p.name != keyArg && p.name != tenant { fields.append((p.name, p.rule)) }
        }
        // The model's key: a bulk write's `ids` name many `id`s.
        var modelKey = key
        if operation == "bulk_update", let k = key { modelKey = String(k.dropLast()) }
        if let key, let modelKey, let p = props.first(where: { $0.name == key }) {
            fields.removeAll { $0.0 == modelKey }
            fields.insert((modelKey, operation == "bulk_update" ? (p.itemRule ?? "{type: string}") : p.rule), at: 0)
        }
        if operation == "delete" { fields = fields.filter { $0.0 == modelKey } }
        return WriteShape(tool: tool, evidence: evidence, model: modelName, key: key, modelKey: modelKey, operation: operation,
                          fields: fields, container: container, reasonArgument: reason, keyArgument: keyArg, tenantArgument: tenant)
    }

    /// A schema property as a field rule.
    struct Property {
        var name: String
        var type: String?
        var rule: String
        var itemRule: String?
    }

    static func properties(_ tool: MCPTool) -> [Property] {
        let props = tool.inputSchema["properties"]?.objectValue ?? [:]
        return props.keys.sorted().map { name in
            let schema = props[name]!
            let (type, nullable) = jsonType(schema)
            var parts: [String] = []
            var itemRule: String?
            switch type {
            case "string", "integer", "number", "boolean": parts.append("type: \(type!)")
            case "array":
                parts.append("type: list")
                let (itemType, _) = jsonType(schema["items"] ?? .null)
                let item = ["string", "integer", "number", "boolean"].contains(itemType ?? "") ? itemType! : "string"
                parts.append("items: {type: \(item)}")
                itemRule = "{type: \(item)}"
            case "object": parts.append("type: object")
            default: parts.append("type: string")   // the schema gives no type
            }
            if let allowed = schema["enum"]?.arrayValue, !allowed.isEmpty {
                parts.append("in: [\(allowed.map { $0.stringValue.map(quoted) ?? $0.canonicalText }.joined(separator: ", "))]")
            }
            if let max = schema["maxLength"]?.intValue { parts.append("max_length: \(max)") }
            if nullable || schema["default"] != nil { parts.append("nullable: true") }
            return Property(name: name, type: type, rule: "{\(parts.joined(separator: ", "))}", itemRule: itemRule)
        }
    }

    /// The JSON type a schema names, and whether null is allowed (`anyOf: [{type: X}, {type: null}]`).
    static func jsonType(_ schema: JSONValue) -> (String?, Bool) {
        if let type = schema["type"]?.stringValue { return (type, false) }
        if let types = schema["type"]?.arrayValue?.compactMap(\.stringValue) {
            return (types.first { $0 != "null" }, types.contains("null"))
        }
        if let options = (schema["anyOf"] ?? schema["oneOf"])?.arrayValue {
            let types = options.compactMap { $0["type"]?.stringValue }
            return (types.first { $0 != "null" }, types.contains("null"))
        }
        return (nil, false)
    }

    static func pascal(_ text: String) -> String {
        NameWords.split(text).map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    static func snake(_ text: String) -> String {
        var out = ""
        for c in text {
            if c.isUppercase, !out.isEmpty { out.append("_") }
            out.append(contentsOf: c.lowercased())
        }
        return out
    }

    /// A YAML scalar: plain when it is a simple word, double-quoted otherwise.
    static func quoted(_ text: String) -> String {
        let plain = !text.isEmpty && text.allSatisfy { $0.isLetter || $0.isNumber || "_.-/".contains($0) } && !(text.first!.isNumber)
            && !["true", "false", "null", "yes", "no", "on", "off", "none"].contains(text.lowercased())
        if plain { return text }
        return "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
