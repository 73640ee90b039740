/// One problem found in a file a user wrote: where it is (file, line, column, field path), what is
/// wrong and what was expected. Lint prints every one of them; loaders throw them as a group.
public struct Diagnostic: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable, Codable {
        case error
        case warning
    }

    public var file: String
    /// 1-based; 0 when the problem has no place in the file (a missing file, a missing key at the top).
    public var line: Int
    public var column: Int
    /// The dotted field path, e.g. `tools.orders.update.cap.per`; empty for the whole document.
    public var path: String
    public var message: String
    /// What would have been accepted, when that can be said briefly.
    public var expected: String?
    public var severity: Severity

    public init(
        file: String, line: Int, column: Int, path: String, message: String, expected: String? = nil,
        severity: Severity = .error
    ) {
        self.file = file
        self.line = line
        self.column = column
        self.path = path
        self.message = message
        self.expected = expected
        self.severity = severity
    }

    /// `file:line:column: error: path: message (expected ...)`, the format editors and CI annotate.
    public var description: String {
        var text = line > 0 ? "\(file):\(line):\(column): " : "\(file): "
        text += "\(severity.rawValue): "
        if !path.isEmpty { text += "\(path): " }
        text += message
        if let expected { text += " (expected \(expected))" }
        return text
    }
}

/// Thrown when a file has problems: every one found, not only the first.
public struct DiagnosticsError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics
    }

    public var description: String {
        diagnostics.map(\.description).joined(separator: "\n")
    }
}

/// A file could not be read at all (missing, unreadable, not text, not YAML): distinct from a file
/// that was read and has problems, because the command line reports it with another exit status.
public struct UnreadableInputError: Error, Sendable, CustomStringConvertible {
    public var diagnostic: Diagnostic

    public init(_ diagnostic: Diagnostic) {
        self.diagnostic = diagnostic
    }

    public var description: String { diagnostic.description }
}

extension Diagnostic {
    /// The diagnostic as a JSON object, for `--format json`.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "file": .string(file), "line": .number(Double(line)), "column": .number(Double(column)),
            "path": .string(path), "message": .string(message), "severity": .string(severity.rawValue),
        ]
        if let expected { object["expected"] = .string(expected) }
        return .object(object)
    }
}
