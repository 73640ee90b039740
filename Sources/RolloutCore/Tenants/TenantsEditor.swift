import Foundation

/// Applies a stage change to the text of `tenants.yaml` in place: only the lines of the tenant that
/// changed and the new history entries are touched, so comments, order and layout survive and a pull
/// request shows the change alone. The result is read back and must decode to the intended file;
/// otherwise (an unusual layout, flow style) the caller regenerates the file with `TenantsWriter`.
public enum TenantsEditor {
    /// `text` edited from `old` to `updated`, or nil when it cannot be done in place.
    public static func edit(_ text: String, from old: TenantsFile, to updated: TenantsFile) -> String? {
        guard old.version == updated.version, old.gates == updated.gates,
              old.tenants.map(\.id) == updated.tenants.map(\.id),
              updated.history.count >= old.history.count, Array(updated.history.prefix(old.history.count)) == old.history,
              let root = try? SourceDocument.parse(text, file: old.file ?? "tenants.yaml"),
              let tenantsNode = root["tenants"]?.value
        else { return nil }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var edits: [Edit] = []

        for (before, after) in zip(old.tenants, updated.tenants) where before != after {
            guard let node = tenantsNode[after.id]?.value, case .mapping = node.kind, let stage = node["stage"] else { return nil }
            let indent = String(repeating: " ", count: stage.column - 1)
            if before.stage != after.stage { edits.append(.replace(stage.value.line, stage.value.column, after.stage.rawValue)) }
            if before.since != after.since {
                guard let since = after.since else { return nil }
                let value = Timestamp.formatSeconds(since)
                if let entry = node["since"] {
                    edits.append(.replace(entry.value.line, entry.value.column, value))
                } else {
                    edits.append(.insert(after: stage.line, ["\(indent)since: \(value)"]))
                }
            }
            if before.paused != after.paused {
                if let entry = node["paused"] {
                    edits.append(.replace(entry.value.line, entry.value.column, after.paused ? "true" : "false"))
                } else {
                    edits.append(.insert(after: stage.line, ["\(indent)paused: true"]))
                }
            }
            if before.tools != after.tools {
                guard let toolEdits = editTools(node, indent: indent, stageLine: stage.line, before: before.tools, after: after.tools) else { return nil }
                edits += toolEdits
            }
        }

        let added = updated.history.dropFirst(old.history.count).flatMap(TenantsWriter.entry)
        if !added.isEmpty {
            if let history = root["history"] {
                if case .sequence(let items) = history.value.kind, let lastItem = items.last, lastItem.line > history.line {
                    edits.append(.insert(after: endOfBlock(lines, from: lastItem.line), added))
                } else if history.value.line == history.line, lines.indices.contains(history.line - 1),
                          lines[history.line - 1].trimmingCharacters(in: .whitespaces).hasPrefix("history:") {
                    // `history: []` (or empty): the block starts here.
                    edits.append(.replaceLine(history.line, "history:"))
                    edits.append(.insert(after: history.line, added))
                } else {
                    return nil
                }
            } else {
                if lines.last == "" { lines.removeLast() }
                lines += ["", "history:"] + added + [""]
            }
        }

        // Bottom to top, so that earlier line numbers stay valid.
        for edit in edits.sorted(by: { $0.line > $1.line }) {
            switch edit {
            case .replace(let line, let column, let value):
                guard lines.indices.contains(line - 1), let replaced = replaceToken(lines[line - 1], column: column, with: value) else { return nil }
                lines[line - 1] = replaced
            case .replaceLine(let line, let value):
                lines[line - 1] = value
            case .insert(let line, let new):
                lines.insert(contentsOf: new, at: min(line, lines.count))
            case .delete(let line):
                lines.remove(at: line - 1)
            }
        }
        let result = lines.joined(separator: "\n")
        // Read back: the edit must mean exactly the intended file.
        guard let reread = try? TenantsDecoder.load(text: result, file: old.file ?? "tenants.yaml", policy: nil) else { return nil }
        var expected = updated
        expected.file = reread.file
        return reread == expected ? result : nil
    }

    enum Edit {
        case replace(Int, Int, String)
        case replaceLine(Int, String)
        case insert(after: Int, [String])
        case delete(Int)

        var line: Int {
            switch self {
            case .replace(let l, _, _), .replaceLine(let l, _), .insert(let l, _), .delete(let l): l
            }
        }
    }

    /// Edits of a tenant's `tools:` block mapping.
    static func editTools(_ node: SourceNode, indent: String, stageLine: Int, before: [String: Stage], after: [String: Stage]) -> [Edit]? {
        guard let tools = node["tools"] else {
            let entries = after.keys.sorted().map { "\(indent)  \(TenantsWriter.scalar($0)): \(after[$0]!.rawValue)" }
            return [.insert(after: stageLine, ["\(indent)tools:"] + entries)]
        }
        guard case .mapping(let entries) = tools.value.kind, entries.allSatisfy({ $0.line > tools.line }) else { return nil }
        var edits: [Edit] = []
        let childIndent = entries.first.map { String(repeating: " ", count: $0.column - 1) } ?? indent + "  "
        for name in Set(before.keys).union(after.keys).sorted() where before[name] != after[name] {
            let entry = entries.first { $0.key == name }
            switch (entry, after[name]) {
            case (let entry?, let stage?): edits.append(.replace(entry.value.line, entry.value.column, stage.rawValue))
            case (let entry?, nil): edits.append(.delete(entry.line))
            case (nil, let stage?): edits.append(.insert(after: tools.line, ["\(childIndent)\(TenantsWriter.scalar(name)): \(stage.rawValue)"]))
            case (nil, nil): break
            }
        }
        if after.isEmpty { edits.append(.delete(tools.line)) }
        return edits
    }

    /// The last line of the block that starts at `line`: up to the next line at column 1, not counting
    /// blank lines and comments in between.
    static func endOfBlock(_ lines: [String], from line: Int) -> Int {
        var last = line
        var i = line  // 0-based index of the line after `line`
        while i < lines.count {
            let text = lines[i]
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if !trimmed.isEmpty, !trimmed.hasPrefix("#") {
                if text.first != " ", text.first != "-" { break }
                last = i + 1
            }
            i += 1
        }
        return last
    }

    /// `line` with the scalar starting at `column` (1-based) replaced by `value`; a trailing comment stays.
    static func replaceToken(_ line: String, column: Int, with value: String) -> String? {
        let chars = Array(line)
        let start = column - 1
        guard start >= 0, start < chars.count else { return nil }
        var end = start
        if chars[start] == "\"" || chars[start] == "'" {
            let quote = chars[start]
            end += 1
            while end < chars.count, chars[end] != quote || (quote == "\"" && chars[end - 1] == "\\") { end += 1 }
            guard end < chars.count else { return nil }
            end += 1
        } else {
            while end < chars.count, !(chars[end] == " " && end + 1 < chars.count && chars[end + 1] == "#"), !",}]".contains(chars[end]) { end += 1 }
            while end > start, chars[end - 1] == " " { end -= 1 }
        }
        return String(chars[..<start]) + value + String(chars[end...])
    }
}
