/// Turns a policy document into a `Policy`, checking every key, type and cross-reference and
/// collecting every problem with its file, line, column and field path.
public enum PolicyDecoder {
    /// The variables every condition may read.
    public static let conditionRoots: Set<String> = Set(ConditionScope.roots)

    static let topKeys = ["version", "defaults", "models", "tools", "reads", "mcp"]
    static let defaultsKeys = ["reason", "idempotency", "cap", "actor_cap", "approval_expires", "bind"]
    static let modelKeys = ["table", "key", "tenant_field", "fields", "description", "soft_delete", "managed"]
    static let fieldKeys = [
        "type", "in", "min", "max", "min_length", "max_length", "pattern", "nullable", "secret", "kind", "description",
        "items", "min_items", "max_items", "unique", "fields", "references",
    ]
    static let toolKeys = [
        "tool", "model", "operation", "writable", "reason", "idempotency", "dry_run", "max_rows", "approval", "cap",
        "actor_cap", "bind", "description", "args", "guard_args", "extra_args", "principal_field", "lookups", "before",
        "rules", "inverse",
    ]
    static let readKeys = ["tenant_field", "principal_field", "rules", "description", "args"]
    static let ruleKeys = ["when", "decision", "message"]
    static let lookupKeys = ["tool", "args", "select", "optional"]
    static let bindKeys = ["model", "target", "targets", "fields", "reason", "idempotency_key", "dry_run"]

    /// The decoded policy (nil when the document is too broken to build one) and every diagnostic.
    public static func decode(_ root: SourceNode, file: String) -> (Policy?, [Diagnostic]) {
        var reader = SourceReader(file: file)
        guard reader.mapping(root, "", allowed: topKeys) != nil else { return (nil, reader.diagnostics) }

        var version = 1
        if let entry = root["version"] {
            if let v = reader.int(entry.value, "version") {
                if v == 1 {
                    version = v
                } else {
                    reader.report(entry.value, "version", "version \(v) is not supported", expected: "1")
                }
            }
        } else {
            reader.report(line: root.line, column: root.column, "version", "is missing", expected: "version: 1")
        }

        let defaults = decodeDefaults(root["defaults"], &reader)

        var models: [ModelPolicy] = []
        if let entry = root["models"], let entries = reader.mapping(entry.value, "models") {
            let names = entries.map(\.key)
            for modelEntry in entries {
                if let model = decodeModel(modelEntry, &reader, referable: names) { models.append(model) }
            }
            if entries.isEmpty { reader.report(entry.value, "models", "has no models", expected: "at least one model") }
        } else if root["models"] == nil {
            reader.report(line: root.line, column: root.column, "models", "is missing", expected: "a mapping of models")
        }

        var tools: [ToolPolicy] = []
        if let entry = root["tools"], let entries = reader.mapping(entry.value, "tools") {
            for toolEntry in entries {
                if let tool = decodeTool(toolEntry, defaults: defaults, models: models, &reader) { tools.append(tool) }
            }
        } else if root["tools"] == nil {
            reader.report(line: root.line, column: root.column, "tools", "is missing", expected: "a mapping of write tools")
        }
        checkWireNames(tools, root["tools"], &reader)
        checkReservedNames(tools, root["tools"], &reader)
        checkInverses(tools, root["tools"], &reader)

        var reads: [ReadPolicy] = []
        if let entry = root["reads"] { reads = decodeReads(entry.value, tools: tools, &reader) }
        checkLookupTools(tools, reads: reads, root["tools"], &reader)

        var refusalPatterns: [String] = []
        var resetTool: ToolCall?
        if let entry = root["mcp"], let mcp = reader.mapping(entry.value, "mcp", allowed: ["refusal_patterns", "reset"]) {
            for item in mcp where item.key == "reset" {
                guard let fields = reader.mapping(item.value, "mcp.reset", allowed: ["tool", "args"]) else { continue }
                var tool: String?
                var args: JSONValue = [:]
                for field in fields {
                    if field.key == "tool" { tool = reader.string(field.value, "mcp.reset.tool") }
                    if field.key == "args" {
                        if case .mapping = field.value.kind { args = field.value.json } else { reader.report(field.value, "mcp.reset.args", "is \(field.value.typeNameWithArticle)", expected: "a mapping of arguments") }
                    }
                }
                if let tool { resetTool = ToolCall(tool: tool, arguments: args) } else { reader.report(item.value, "mcp.reset.tool", "is missing") }
            }
            for item in mcp where item.key == "refusal_patterns" {
                if let patterns = reader.stringList(item.value, "mcp.refusal_patterns") {
                    for (i, pattern) in patterns.enumerated() where !FieldRule.isValidPattern(pattern) {
                        reader.report(item.value, "mcp.refusal_patterns[\(i)]", "'\(pattern)' is not a valid regular expression")
                    }
                    refusalPatterns = patterns
                }
            }
        }
        var policy = Policy(
            version: version, models: models, tools: tools, refusalPatterns: refusalPatterns, canonical: root.json,
            file: file)
        policy.reads = reads
        policy.resetTool = resetTool
        return (policy, reader.diagnostics)
    }

    // MARK: defaults

    struct Defaults {
        var reason = ReasonRule()
        var idempotencyRequired = true
        var cap: Cap?
        var actorCap: Cap?
        var approvalExpires = TimeSpan.hours(24)
        var binding = Binding.conventional
    }

    static func decodeDefaults(_ entry: SourceEntry?, _ reader: inout SourceReader) -> Defaults {
        var defaults = Defaults()
        guard let entry, let items = reader.mapping(entry.value, "defaults", allowed: defaultsKeys) else { return defaults }
        for item in items {
            let path = "defaults.\(item.key)"
            switch item.key {
            case "reason": if let r = decodeReason(item.value, path, base: defaults.reason, &reader) { defaults.reason = r }
            case "idempotency": if let i = decodeRequirement(item.value, path, &reader) { defaults.idempotencyRequired = i }
            case "cap": defaults.cap = decodeCap(item.value, path, &reader)
            case "actor_cap": defaults.actorCap = decodeCap(item.value, path, &reader)
            case "approval_expires": if let s = reader.timeSpan(item.value, path) { defaults.approvalExpires = s }
            case "bind": if let b = decodeBinding(item.value, path, base: defaults.binding, &reader) { defaults.binding = b }
            default: break
            }
        }
        return defaults
    }

    static func decodeRequirement(_ node: SourceNode, _ path: String, _ reader: inout SourceReader) -> Bool? {
        reader.choice(node, path, ["required", "optional"]).map { $0 == "required" }
    }

    static func decodeReason(_ node: SourceNode, _ path: String, base: ReasonRule, _ reader: inout SourceReader) -> ReasonRule? {
        if case .scalar = node.kind {
            guard let required = decodeRequirement(node, path, &reader) else { return nil }
            var rule = base
            rule.required = required
            return rule
        }
        guard let items = reader.mapping(node, path, allowed: ["required", "min_length", "max_length", "boilerplate"]) else {
            return nil
        }
        var rule = base
        for item in items {
            let p = SourceReader.join(path, item.key)
            switch item.key {
            case "required": if let b = reader.bool(item.value, p) { rule.required = b }
            case "min_length": if let n = reader.int(item.value, p, min: 0) { rule.minLength = n }
            case "max_length": if let n = reader.int(item.value, p, min: 1) { rule.maxLength = n }
            case "boilerplate": if let list = reader.stringList(item.value, p) { rule.boilerplate = list }
            default: break
            }
        }
        if rule.minLength > rule.maxLength {
            reader.report(node, path, "min_length \(rule.minLength) is above max_length \(rule.maxLength)")
        }
        return rule
    }

    static func decodeCap(_ node: SourceNode, _ path: String, _ reader: inout SourceReader) -> Cap? {
        // `cap: none` (or null) opts a tool out of the default cap, deliberately.
        if case .scalar(.null) = node.kind { return nil }
        if case .scalar(.string("none")) = node.kind { return nil }
        guard let items = reader.mapping(node, path, allowed: ["max", "per"]) else { return nil }
        var max: Int?
        var per: TimeSpan?
        for item in items {
            let p = SourceReader.join(path, item.key)
            switch item.key {
            case "max": max = reader.int(item.value, p, min: 1)
            case "per": per = reader.timeSpan(item.value, p)
            default: break
            }
        }
        if node["max"] == nil { reader.report(node, "\(path).max", "is missing", expected: "the number of calls allowed per window") }
        if node["per"] == nil { reader.report(node, "\(path).per", "is missing", expected: "a window such as 1h") }
        guard let max, let per else { return nil }
        return Cap(max: max, per: per)
    }

    // MARK: models

    /// `referable`: the models a field's `references:` may name (every model of the file).
    static func decodeModel(_ entry: SourceEntry, _ reader: inout SourceReader, referable: [String] = []) -> ModelPolicy? {
        let path = "models.\(entry.key)"
        guard let items = reader.mapping(entry.value, path, allowed: modelKeys) else { return nil }
        var table = entry.key.lowercased() + "s"
        var key = "id"
        var tenantField: String?
        var fields: [FieldRule] = []
        var softDelete: String?
        var managed: [String] = []
        var managedNode: SourceNode?
        for item in items {
            let p = SourceReader.join(path, item.key)
            switch item.key {
            case "soft_delete": softDelete = reader.string(item.value, p)
            case "managed":
                managedNode = item.value
                managed = reader.stringList(item.value, p) ?? []
            case "table": if let s = reader.string(item.value, p) { table = s }
            case "key": if let s = reader.string(item.value, p) { key = s }
            case "tenant_field":
                // `none` says so on purpose: a single-tenant server, scoped by subject instead.
                if let name = reader.string(item.value, p) { tenantField = name == "none" ? "" : name }
            case "fields":
                guard let fieldEntries = reader.mapping(item.value, p) else { break }
                for fieldEntry in fieldEntries {
                    if let rule = decodeField(fieldEntry, SourceReader.join(p, fieldEntry.key), &reader, referable: referable) { fields.append(rule) }
                }
            default: break
            }
        }
        if entry.value["tenant_field"] == nil {
            reader.report(entry.value, "\(path).tenant_field", "is missing",
                          expected: "the column that scopes rows to a tenant, e.g. tenant_id")
        }
        guard let tenantField else { return nil }
        if tenantField == key {
            reader.report(entry.value, "\(path).tenant_field", "is the same column as the key '\(key)'")
        }
        // A managed column changes on its own; the columns the policy describes never may.
        // SQL column names are compared without case: `ID` is the key `id`.
        if let managedNode {
            let described = Set(([key, tenantField] + fields.map(\.name) + (softDelete.map { [$0] } ?? [])).map { $0.lowercased() })
            var seen: Set<String> = []
            for name in managed {
                if described.contains(name.lowercased()) {
                    reader.report(managedNode, "\(path).managed", "names '\(name)', a column the model describes: only columns the upstream changes on its own (updated_at, version) are managed",
                                  expected: "columns that are not the key, the tenant field, the soft-delete mark or a field")
                } else if !seen.insert(name.lowercased()).inserted {
                    reader.report(managedNode, "\(path).managed", "names '\(name)' twice")
                }
            }
        }
        var model = ModelPolicy(name: entry.key, table: table, key: key, tenantField: tenantField.isEmpty ? nil : tenantField, fields: fields)
        model.softDelete = softDelete
        model.managed = managed
        return model
    }

    /// `referable`: the models `references:` may name; nil where a field cannot reference a row (an element
    /// of a list, a member of an object, a tool's argument), which the guard would not check.
    static func decodeField(_ entry: SourceEntry, _ path: String, _ reader: inout SourceReader, referable: [String]? = nil) -> FieldRule? {
        guard let items = reader.mapping(entry.value, path, allowed: fieldKeys) else { return nil }
        guard let typeEntry = entry.value["type"] else {
            reader.report(entry.value, "\(path).type", "is missing", expected: "one of \(FieldRule.ValueType.allCases.map(\.rawValue).joined(separator: ", "))")
            return nil
        }
        guard let typeName = reader.choice(typeEntry.value, "\(path).type", FieldRule.ValueType.allCases.map(\.rawValue)),
            let type = FieldRule.ValueType(rawValue: typeName)
        else { return nil }
        var rule = FieldRule(name: entry.key, type: type)
        for item in items {
            let p = SourceReader.join(path, item.key)
            switch item.key {
            case "in":
                guard case .sequence(let values) = item.value.kind, !values.isEmpty else {
                    reader.report(item.value, p, "is \(item.value.typeNameWithArticle)", expected: "a non-empty list of values")
                    break
                }
                var allowed: [JSONValue] = []
                for (i, value) in values.enumerated() {
                    let probe = FieldRule(name: entry.key, type: type)
                    if let problem = probe.violation(value.json) {
                        reader.report(value, "\(p)[\(i)]", problem)
                    } else {
                        allowed.append(value.json)
                    }
                }
                rule.allowed = allowed
            case "min", "max":
                guard type == .integer || type == .number else {
                    reader.report(item.value, p, "applies to numbers, not to a \(type.rawValue) field", expected: "min_length/max_length")
                    break
                }
                if item.key == "min" { rule.min = reader.number(item.value, p) } else { rule.max = reader.number(item.value, p) }
            case "min_length", "max_length":
                guard type == .string else {
                    reader.report(item.value, p, "applies to strings, not to a \(type.rawValue) field", expected: "min/max")
                    break
                }
                let n = reader.int(item.value, p, min: 0)
                if item.key == "min_length" { rule.minLength = n } else { rule.maxLength = n }
            case "pattern":
                guard let pattern = reader.string(item.value, p) else { break }
                if type != .string {
                    reader.report(item.value, p, "applies to strings, not to a \(type.rawValue) field")
                } else if !FieldRule.isValidPattern(pattern) {
                    reader.report(item.value, p, "'\(pattern)' is not a valid regular expression")
                } else {
                    rule.pattern = pattern
                }
            case "references":
                guard let name = reader.string(item.value, p) else { break }
                if name == "none", referable != nil {
                    rule.referencesNothing = true
                    break
                }
                guard let referable else {
                    reader.report(item.value, p, "applies to a model's own fields, not to a list's items, an object's members or a tool's arguments")
                    break
                }
                guard type == .integer || type == .string else {
                    reader.report(item.value, p, "applies to a key, an integer or a string field, not to a \(type.rawValue) field")
                    break
                }
                guard referable.contains(name) else {
                    let suggestion = SourceReader.closest(to: name, in: referable).map { "; did you mean '\($0)'?" } ?? ""
                    reader.report(item.value, p, "names model '\(name)', which the policy does not define\(suggestion)",
                                  expected: "one of \(referable.joined(separator: ", "))")
                    break
                }
                rule.references = name
            case "nullable": if let b = reader.bool(item.value, p) { rule.nullable = b }
            case "secret": if let b = reader.bool(item.value, p) { rule.secret = b }
            case "kind":
                if let k = reader.choice(item.value, p, FieldRule.Sensitivity.allCases.map(\.rawValue)) {
                    rule.sensitivity = FieldRule.Sensitivity(rawValue: k) ?? .none
                }
            case "items":
                guard type == .list else {
                    reader.report(item.value, p, "applies to lists, not to a \(type.rawValue) field")
                    break
                }
                rule.items = decodeField(SourceEntry(key: entry.key, line: item.line, column: item.column, value: item.value), p, &reader)
            case "min_items", "max_items":
                guard type == .list else {
                    reader.report(item.value, p, "applies to lists, not to a \(type.rawValue) field")
                    break
                }
                let n = reader.int(item.value, p, min: 0)
                if item.key == "min_items" { rule.minItems = n } else { rule.maxItems = n }
            case "unique":
                guard type == .list else {
                    reader.report(item.value, p, "applies to lists, not to a \(type.rawValue) field")
                    break
                }
                if let b = reader.bool(item.value, p) { rule.unique = b }
            case "fields":
                guard type == .object else {
                    reader.report(item.value, p, "applies to objects, not to a \(type.rawValue) field")
                    break
                }
                guard let members = reader.mapping(item.value, p) else { break }
                rule.fields = members.compactMap { decodeField($0, SourceReader.join(p, $0.key), &reader) }
            default: break
            }
        }
        if type == .list, entry.value["items"] == nil {
            reader.report(entry.value, "\(path).items", "is missing", expected: "the rule every element follows, e.g. {type: string}")
        }
        if type == .object, entry.value["fields"] == nil {
            reader.report(entry.value, "\(path).fields", "is missing", expected: "the members the object may hold, each with its rule")
        }
        if let min = rule.minItems, let max = rule.maxItems, min > max {
            reader.report(entry.value, path, "min_items \(min) is above max_items \(max)")
        }
        if let min = rule.min, let max = rule.max, min > max {
            reader.report(entry.value, path, "min \(JSONValue.formatNumber(min)) is above max \(JSONValue.formatNumber(max))")
        }
        if let min = rule.minLength, let max = rule.maxLength, min > max {
            reader.report(entry.value, path, "min_length \(min) is above max_length \(max)")
        }
        return rule
    }

    // MARK: tools

    static func decodeTool(
        _ entry: SourceEntry, defaults: Defaults, models: [ModelPolicy], _ reader: inout SourceReader
    ) -> ToolPolicy? {
        let path = "tools.\(entry.key)"
        guard let items = reader.mapping(entry.value, path, allowed: toolKeys) else { return nil }
        let node = entry.value
        var toolName = entry.key
        var modelName: String?
        var operation: WriteOperation?
        var writable: [String] = []
        var writableNode: SourceNode?
        var reason = defaults.reason
        var idempotency = defaults.idempotencyRequired
        var dryRun: Int?
        var maxRows: Int?
        var approval: ApprovalRule?
        var cap = defaults.cap
        var actorCap = defaults.actorCap
        var binding = defaults.binding
        var description: String?
        var argumentRules: [FieldRule] = []
        var guardArguments: [String] = []
        var extraArguments = ToolPolicy.ExtraArguments.refuse
        var principalField: JSONPointer?
        var lookups: [Lookup] = []
        var beforeLookup: String?
        var rules: [ToolRule] = []
        var inverse: String?

        for item in items {
            let p = SourceReader.join(path, item.key)
            switch item.key {
            case "args":
                guard let entries = reader.mapping(item.value, p) else { break }
                argumentRules = entries.compactMap { decodeField($0, SourceReader.join(p, $0.key), &reader) }
            case "guard_args": guardArguments = reader.stringList(item.value, p) ?? []
            case "extra_args":
                if let choice = reader.choice(item.value, p, ToolPolicy.ExtraArguments.allCases.map(\.rawValue)) {
                    extraArguments = ToolPolicy.ExtraArguments(rawValue: choice) ?? .refuse
                }
            case "principal_field": principalField = decodePointer(item.value, p, &reader)
            case "lookups": lookups = decodeLookups(item.value, p, &reader)
            case "before": beforeLookup = reader.string(item.value, p)
            case "rules": rules = decodeRules(item.value, p, decisions: ToolRule.Decision.allCases, &reader)
            case "inverse": inverse = reader.string(item.value, p)
            case "tool": if let s = reader.string(item.value, p) { toolName = s }
            case "model": modelName = reader.string(item.value, p)
            case "operation":
                if let s = reader.choice(item.value, p, WriteOperation.allCases.map(\.rawValue)) {
                    operation = WriteOperation(rawValue: s)
                }
            case "writable":
                writableNode = item.value
                writable = reader.stringList(item.value, p) ?? []
            case "reason": if let r = decodeReason(item.value, p, base: defaults.reason, &reader) { reason = r }
            case "idempotency": if let i = decodeRequirement(item.value, p, &reader) { idempotency = i }
            case "dry_run":
                if let d = reader.mapping(item.value, p, allowed: ["required_above_rows"]) {
                    for f in d where f.key == "required_above_rows" {
                        dryRun = reader.int(f.value, "\(p).required_above_rows", min: 0)
                    }
                    if item.value["required_above_rows"] == nil {
                        reader.report(item.value, "\(p).required_above_rows", "is missing", expected: "a row count")
                    }
                }
            case "max_rows": maxRows = reader.int(item.value, p, min: 1)
            case "approval": approval = decodeApproval(item.value, p, expires: defaults.approvalExpires, &reader)
            case "cap": cap = decodeCap(item.value, p, &reader)
            case "actor_cap": actorCap = decodeCap(item.value, p, &reader)
            case "bind": if let b = decodeBinding(item.value, p, base: defaults.binding, &reader) { binding = b }
            case "description": description = reader.string(item.value, p)
            default: break
            }
        }

        if node["model"] == nil { reader.report(node, "\(path).model", "is missing", expected: "the name of a model") }
        if node["operation"] == nil {
            reader.report(node, "\(path).operation", "is missing", expected: "one of create, update, delete, bulk_update")
        }
        guard let modelName, let operation else { return nil }
        guard let model = models.first(where: { $0.name == modelName }) else {
            if let m = node["model"] {
                let suggestion = SourceReader.closest(to: modelName, in: models.map(\.name)).map { "; did you mean '\($0)'?" } ?? ""
                reader.report(m.value, "\(path).model", "unknown model '\(modelName)'\(suggestion)",
                              expected: "one of \(models.map(\.name).joined(separator: ", "))")
            }
            return nil
        }

        // Writable fields must exist, and never include the key or the tenant field.
        for (i, field) in writable.enumerated() {
            let p = "\(path).writable[\(i)]"
            let at = writableNode.flatMap { n -> SourceNode? in
                if case .sequence(let items) = n.kind, items.indices.contains(i) { return items[i] }
                return n
            } ?? node
            if field == model.tenantField {
                reader.report(at, p, "'\(field)' is the tenant field of \(model.name); it is never writable")
            } else if field == model.key {
                reader.report(at, p, "'\(field)' is the key of \(model.name); it is never writable")
            } else if model.field(field) == nil {
                let suggestion = SourceReader.closest(to: field, in: model.fields.map(\.name)).map { "; did you mean '\($0)'?" } ?? ""
                reader.report(at, p, "unknown field '\(field)' of \(model.name)\(suggestion)",
                              expected: "one of \(model.fields.map(\.name).joined(separator: ", "))")
            }
        }
        if Set(writable).count != writable.count {
            reader.report(writableNode ?? node, "\(path).writable", "lists a field twice", severity: .warning)
        }
        if (operation == .create || operation == .update || operation == .bulkUpdate), writable.isEmpty, node["writable"] == nil {
            reader.report(node, "\(path).writable", "is missing", expected: "the fields this tool may change")
        }

        // Bindings must be able to find what the operation needs.
        let bindNode = node["bind"]?.value ?? node
        switch operation {
        case .update, .delete:
            if binding.target == nil {
                reader.report(bindNode, "\(path).bind.target", "is missing", expected: "a JSON pointer to the row's key, e.g. /id")
            }
        case .bulkUpdate:
            if binding.targets == nil {
                reader.report(bindNode, "\(path).bind.targets", "is missing", expected: "a JSON pointer to the list of keys, e.g. /ids")
            }
        case .create:
            break
        }
        // A key the operation does not read is not declared (`ToolPolicy.declaredPointers`): a call that
        // sends it is refused as unbound. Say so where the policy binds one.
        let unread: [String] = switch operation {
        case .create: ["target", "targets"]
        case .update, .delete: ["targets"]
        case .bulkUpdate: ["target"]
        }
        for key in unread {
            guard let entry = node["bind"]?.value[key], entry.value.kind != .scalar(.null) else { continue }
            let reads = switch operation {
            case .create: "a create targets no existing row"
            case .update, .delete: "it reads one row's key from bind.target"
            case .bulkUpdate: "it reads its rows' keys from bind.targets"
            }
            reader.report(entry.value, "\(path).bind.\(key)",
                          "is never read by a \(operation.rawValue) tool (\(reads)), so a call that sends it is refused as an unbound argument",
                          expected: "no bind.\(key) on this tool", severity: .warning)
        }
        if case .each(let map) = binding.fields {
            for field in map.keys.sorted() where model.field(field) == nil && field != model.key && field != model.tenantField {
                reader.report(bindNode, "\(path).bind.fields.\(field)", "unknown field '\(field)' of \(model.name)")
            }
        }
        if let dryRun, let maxRows, dryRun >= maxRows {
            reader.report(node["dry_run"]?.value ?? node, "\(path).dry_run.required_above_rows",
                          "\(dryRun) is not below max_rows \(maxRows), so a dry run is never asked for",
                          expected: "a threshold below max_rows", severity: .warning)
        }

        var result = ToolPolicy(
            name: entry.key, toolName: toolName, model: model.name, operation: operation, writable: writable,
            reason: reason, idempotencyRequired: idempotency, dryRunAboveRows: dryRun, maxRows: maxRows,
            approval: approval, cap: cap, actorCap: actorCap, binding: binding, description: description)
        result.sourceLine = entry.line
        result.arguments = argumentRules
        result.guardArguments = guardArguments
        result.extraArguments = extraArguments
        result.principalField = principalField
        result.lookups = lookups
        result.beforeLookup = beforeLookup
        result.rules = rules
        result.inverse = inverse

        if let beforeLookup, !lookups.contains(where: { $0.name == beforeLookup }) {
            reader.report(node["before"]?.value ?? node, "\(path).before", "names a lookup '\(beforeLookup)' the tool does not declare",
                          expected: lookups.isEmpty ? "a lookups: entry to name here" : "one of \(lookups.map(\.name).joined(separator: ", "))")
        }
        for rule in argumentRules where binding.fieldsPointers.contains(where: { $0.tokens.first == rule.name }) {
            reader.report(node["args"]?.value ?? node, "\(path).args.\(rule.name)", "is already bound as a field; declare it once")
        }
        // Every condition may read only what the tool can reach.
        let scope = ConditionScope(tool: result, model: model)
        if let approval, let at = node["approval"]?.value["when"]?.value {
            checkVariables(approval.when, scope, at, "\(path).approval.when", &reader)
        }
        for rule in rules {
            let at = node["rules"]?.value[rule.name]?.value["when"]?.value ?? node
            checkVariables(rule.when, scope, at, "\(path).rules.\(rule.name).when", &reader)
        }
        return result
    }

    static func checkVariables(_ rule: JsonLogicRule, _ scope: ConditionScope, _ node: SourceNode, _ path: String, _ reader: inout SourceReader) {
        for name in Set(rule.rootVariables).sorted() {
            if let problem = scope.problem(name) {
                reader.report(node, path, problem, expected: "a variable under \(ConditionScope.roots.joined(separator: ", ")) that the tool declares")
            }
        }
    }

    static func decodePointer(_ node: SourceNode, _ path: String, _ reader: inout SourceReader) -> JSONPointer? {
        guard let text = reader.string(node, path) else { return nil }
        guard let pointer = JSONPointer(text), !pointer.tokens.isEmpty else {
            reader.report(node, path, "'\(text)' is not a JSON pointer to an argument", expected: "a pointer such as /user_id")
            return nil
        }
        return pointer
    }

    /// `rules:`: a mapping of names to `{when, decision, message}`.
    static func decodeRules(_ node: SourceNode, _ path: String, decisions: [ToolRule.Decision], _ reader: inout SourceReader) -> [ToolRule] {
        guard let entries = reader.mapping(node, path) else { return [] }
        var rules: [ToolRule] = []
        for entry in entries {
            let p = SourceReader.join(path, entry.key)
            guard let items = reader.mapping(entry.value, p, allowed: ruleKeys) else { continue }
            var when: JsonLogicRule?
            var decision = ToolRule.Decision.refuse
            var message: String?
            for item in items {
                let ip = SourceReader.join(p, item.key)
                switch item.key {
                case "when": when = decodeCondition(item.value, ip, &reader)
                case "decision":
                    if let d = reader.choice(item.value, ip, decisions.map(\.rawValue)) { decision = ToolRule.Decision(rawValue: d) ?? .refuse }
                case "message": message = reader.string(item.value, ip)
                default: break
                }
            }
            if entry.value["when"] == nil { reader.report(entry.value, "\(p).when", "is missing", expected: "a JsonLogic condition") }
            if entry.value["message"] == nil {
                reader.report(entry.value, "\(p).message", "is missing", expected: "what the rule protects, in words the agent and the audit log will show")
            }
            if let when, let message {
                rules.append(ToolRule(name: entry.key, when: when, decision: decision, message: message, sourceLine: entry.line))
            }
        }
        return rules
    }

    /// `lookups:`: a mapping of names to `{tool, args, select, optional}`.
    static func decodeLookups(_ node: SourceNode, _ path: String, _ reader: inout SourceReader) -> [Lookup] {
        guard let entries = reader.mapping(node, path) else { return [] }
        var lookups: [Lookup] = []
        for entry in entries {
            let p = SourceReader.join(path, entry.key)
            guard let items = reader.mapping(entry.value, p, allowed: lookupKeys) else { continue }
            var tool: String?
            var arguments: [String: Lookup.Source] = [:]
            var select: JSONPointer?
            var optional = false
            for item in items {
                let ip = SourceReader.join(p, item.key)
                switch item.key {
                case "tool": tool = reader.string(item.value, ip)
                case "select": select = decodePointer(item.value, ip, &reader)
                case "optional": optional = reader.bool(item.value, ip) ?? false
                case "args":
                    guard let args = reader.mapping(item.value, ip) else { break }
                    for arg in args {
                        let ap = SourceReader.join(ip, arg.key)
                        switch arg.value.kind {
                        case .scalar(.string(let text)) where text.hasPrefix("/"):
                            if let pointer = decodePointer(arg.value, ap, &reader) { arguments[arg.key] = .argument(pointer) }
                        case .scalar(.string(let text)) where text.hasPrefix("$"):
                            switch text {
                            case "$tenant": arguments[arg.key] = .tenant
                            case "$actor": arguments[arg.key] = .actor
                            case "$subject": arguments[arg.key] = .subject
                            default: reader.report(arg.value, ap, "unknown principal value '\(text)'", expected: "$tenant, $actor or $subject")
                            }
                        default:
                            arguments[arg.key] = .literal(arg.value.json)
                        }
                    }
                default: break
                }
            }
            if entry.value["tool"] == nil { reader.report(entry.value, "\(p).tool", "is missing", expected: "the upstream read tool to call") }
            if let tool { lookups.append(Lookup(name: entry.key, tool: tool, arguments: arguments, select: select, optional: optional)) }
        }
        return lookups
    }

    /// `reads:`: a list of tool names, or a mapping of names to their scoping and rules.
    static func decodeReads(_ node: SourceNode, tools: [ToolPolicy], _ reader: inout SourceReader) -> [ReadPolicy] {
        var reads: [ReadPolicy] = []
        switch node.kind {
        case .sequence(let items):
            for (i, item) in items.enumerated() {
                if let name = reader.string(item, "reads[\(i)]") { reads.append(ReadPolicy(pattern: name, sourceLine: item.line)) }
            }
        case .mapping(let entries):
            for entry in entries {
                let p = "reads.\(entry.key)"
                var read = ReadPolicy(pattern: entry.key, sourceLine: entry.line)
                if case .scalar(.null) = entry.value.kind {
                    reads.append(read)
                    continue
                }
                guard let items = reader.mapping(entry.value, p, allowed: readKeys) else { continue }
                for item in items {
                    let ip = SourceReader.join(p, item.key)
                    switch item.key {
                    case "args": read.arguments = reader.stringList(item.value, ip)
                    case "tenant_field": read.tenantField = decodePointer(item.value, ip, &reader)
                    case "principal_field": read.principalField = decodePointer(item.value, ip, &reader)
                    case "rules":
                        read.rules = decodeRules(item.value, ip, decisions: [.refuse], &reader)
                        let scope = ConditionScope(read: read)
                        for rule in read.rules {
                            checkVariables(rule.when, scope, item.value[rule.name]?.value["when"]?.value ?? item.value, "\(ip).\(rule.name).when", &reader)
                        }
                    default: break
                    }
                }
                reads.append(read)
            }
        default:
            reader.report(node, "reads", "is \(node.typeNameWithArticle)", expected: "a list of read tool names, or a mapping of them")
        }
        for read in reads {
            if read.pattern == "*" {
                reader.report(line: read.sourceLine ?? node.line, column: node.column, "reads.*",
                              "admits every tool as a read, writes included: name the reads (a glob such as db.get_* at most)")
            }
            for tool in tools where read.matches(tool.toolName) {
                reader.report(line: read.sourceLine ?? node.line, column: node.column, "reads.\(read.pattern)",
                              "admits \(tool.toolName), which tools.\(tool.name) describes as a write; a write is never a read")
            }
        }
        return reads
    }

    /// An `inverse:` names a policy tool that can undo the write: an update undone by an update of the
    /// same model, a create by a delete, a delete by a create.
    static func checkInverses(_ tools: [ToolPolicy], _ toolsEntry: SourceEntry?, _ reader: inout SourceReader) {
        for tool in tools {
            guard let name = tool.inverse else { continue }
            let at = toolsEntry?.value[tool.name]?.value["inverse"]?.value ?? toolsEntry?.value
            guard let at else { continue }
            guard let inverse = tools.first(where: { $0.name == name }) else {
                let suggestion = SourceReader.closest(to: name, in: tools.map(\.name)).map { "; did you mean '\($0)'?" } ?? ""
                reader.report(at, "tools.\(tool.name).inverse", "unknown tool '\(name)'\(suggestion)")
                continue
            }
            let expected: [WriteOperation: [WriteOperation]] = [
                .update: [.update, .bulkUpdate], .bulkUpdate: [.update, .bulkUpdate], .create: [.delete], .delete: [.create],
            ]
            if inverse.model != tool.model || !(expected[tool.operation] ?? []).contains(inverse.operation) {
                reader.report(at, "tools.\(tool.name).inverse",
                              "\(name) (\(inverse.operation.rawValue) of \(inverse.model)) cannot undo a \(tool.operation.rawValue) of \(tool.model)")
            }
        }
    }

    static func decodeApproval(_ node: SourceNode, _ path: String, expires: TimeSpan, _ reader: inout SourceReader) -> ApprovalRule? {
        guard let items = reader.mapping(node, path, allowed: ["when", "expires"]) else { return nil }
        var rule: JsonLogicRule?
        var lifetime = expires
        for item in items {
            let p = SourceReader.join(path, item.key)
            switch item.key {
            case "when": rule = decodeCondition(item.value, p, &reader)
            case "expires": if let s = reader.timeSpan(item.value, p) { lifetime = s }
            default: break
            }
        }
        if node["when"] == nil {
            reader.report(node, "\(path).when", "is missing", expected: "a JsonLogic condition, or true to always ask")
        }
        guard let rule else { return nil }
        return ApprovalRule(when: rule, expiresAfter: lifetime)
    }

    /// A JsonLogic condition that compiles and reads only the request's variables.
    /// A JsonLogic condition that compiles; the tool's `ConditionScope` then checks every variable it reads.
    public static func decodeCondition(_ node: SourceNode, _ path: String, _ reader: inout SourceReader) -> JsonLogicRule? {
        do {
            return try JsonLogicRule(node.json)
        } catch {
            reader.report(node, path, "is not a valid JsonLogic condition: \(error)")
            return nil
        }
    }

    static func decodeBinding(_ node: SourceNode, _ path: String, base: Binding, _ reader: inout SourceReader) -> Binding? {
        guard let items = reader.mapping(node, path, allowed: bindKeys) else { return nil }
        var binding = base
        func pointer(_ item: SourceEntry, _ reader: inout SourceReader) -> JSONPointer?? {
            let p = SourceReader.join(path, item.key)
            if case .scalar(.null) = item.value.kind { return .some(nil) }  // explicitly unbound
            guard let text = reader.string(item.value, p, nonEmpty: false) else { return nil }
            guard let pointer = JSONPointer(text) else {
                reader.report(item.value, p, "'\(text)' is not a JSON pointer", expected: "a pointer such as /id or /data/amount")
                return nil
            }
            return .some(pointer)
        }
        for item in items {
            switch item.key {
            case "model": if let p = pointer(item, &reader) { binding.model = p }
            case "target": if let p = pointer(item, &reader) { binding.target = p }
            case "targets": if let p = pointer(item, &reader) { binding.targets = p }
            case "reason": if let p = pointer(item, &reader) { binding.reason = p }
            case "idempotency_key": if let p = pointer(item, &reader) { binding.idempotencyKey = p }
            case "dry_run": if let p = pointer(item, &reader) { binding.dryRun = p }
            case "fields":
                if case .mapping(let fieldEntries) = item.value.kind {
                    var map: [String: JSONPointer] = [:]
                    for f in fieldEntries {
                        let p = "\(path).fields.\(f.key)"
                        guard let text = reader.string(f.value, p, nonEmpty: false) else { continue }
                        guard let ptr = JSONPointer(text) else {
                            reader.report(f.value, p, "'\(text)' is not a JSON pointer", expected: "a pointer such as /status")
                            continue
                        }
                        map[f.key] = ptr
                    }
                    binding.fields = .each(map)
                } else if let p = pointer(item, &reader) {
                    binding.fields = .object(p ?? JSONPointer(tokens: ["data"]))
                }
            default: break
            }
        }
        return binding
    }

    /// `rollout.` names rollout's own control plane (`rollout.stage`): a policy tool is named otherwise,
    /// on the wire too, so that no write of it is ever taken for a stage change.
    static func checkReservedNames(_ tools: [ToolPolicy], _ toolsEntry: SourceEntry?, _ reader: inout SourceReader) {
        for tool in tools {
            for (name, path) in [(tool.name, "tools.\(tool.name)"), (tool.toolName, "tools.\(tool.name).tool")] where name.hasPrefix("rollout.") {
                guard let at = toolsEntry?.value[tool.name]?.value ?? toolsEntry?.value else { continue }
                reader.report(at, path, "is '\(name)': names beginning with rollout. are rollout's own (its stage changes are recorded as rollout.stage)",
                              expected: "another name")
                break
            }
        }
    }

    /// Several entries may describe one wire tool only when each binds a model argument and names a
    /// different model: otherwise a call could not be told apart.
    /// A lookup's tool is called on the upstream before any check, at every stage (shadow included) and for a
    /// call the checks then refuse: it must be one of `reads:`, the tools the agent may call itself, and no
    /// write tool's wire name, or a lookup would write.
    static func checkLookupTools(_ tools: [ToolPolicy], reads: [ReadPolicy], _ toolsEntry: SourceEntry?, _ reader: inout SourceReader) {
        for tool in tools {
            for lookup in tool.lookups {
                let path = "tools.\(tool.name).lookups.\(lookup.name).tool"
                let at = toolsEntry?.value[tool.name]?.value["lookups"]?.value[lookup.name]?.value["tool"]?.value ?? toolsEntry?.value
                guard let at else { continue }
                if let write = tools.first(where: { $0.toolName == lookup.tool }) {
                    reader.report(at, path, "'\(lookup.tool)' is the write tool of \(write.name): a lookup calls its tool on the upstream before any check, so it would write at every stage",
                                  expected: "one of the upstream's read tools, listed under reads:")
                } else if !reads.contains(where: { $0.isGlob ? $0.matches(lookup.tool) : $0.pattern == lookup.tool }) {
                    reader.report(at, path, "'\(lookup.tool)' is not one of reads:; a lookup calls its tool on the upstream before any check, so only a tool the policy describes as a read may be called",
                                  expected: "a tool listed under reads:")
                }
            }
        }
    }

    static func checkWireNames(_ tools: [ToolPolicy], _ toolsEntry: SourceEntry?, _ reader: inout SourceReader) {
        let groups = Dictionary(grouping: tools, by: \.toolName).filter { $0.value.count > 1 }
        for (wire, entries) in groups.sorted(by: { $0.key < $1.key }) {
            for tool in entries {
                let at = toolsEntry?.value[tool.name]?.value ?? toolsEntry?.value
                guard let at else { continue }
                if tool.binding.model == nil {
                    reader.report(at, "tools.\(tool.name).bind.model", "several entries describe the tool '\(wire)', so each must bind the model argument",
                                  expected: "bind: {model: /model}")
                }
            }
            let models = entries.map(\.model)
            if Set(models).count != models.count, let at = toolsEntry?.value {
                reader.report(at, "tools", "two entries describe '\(wire)' on the same model; a call could match both")
            }
        }
    }
}
