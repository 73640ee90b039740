import Foundation
import RolloutCore

/// A SARIF 2.1.0 log: what GitHub code scanning and other static-analysis viewers read. One run of one
/// tool, its rules, and a result per problem with a location in a repository file. Built from values,
/// so lint and fuzz (and tests) make it the same way.
public struct SARIFLog: Sendable {
    /// A kind of problem the tool reports (one per attack class, one per lint check).
    public struct Rule: Sendable, Hashable {
        public var id: String
        public var name: String
        public var description: String
        public var level: Level

        public init(id: String, name: String, description: String, level: Level) {
            self.id = id
            self.name = name
            self.description = description
            self.level = level
        }
    }

    /// SARIF's result levels.
    public enum Level: String, Sendable, Hashable {
        case error, warning, note
    }

    /// One problem, where it is.
    public struct Result: Sendable, Hashable {
        public var ruleID: String
        public var level: Level
        public var message: String
        /// A path relative to the repository root (forward slashes), and a 1-based line and column.
        public var uri: String
        public var line: Int
        public var column: Int?
        /// Stable identity across runs, for viewers that track a problem over time.
        public var fingerprint: String?

        public init(ruleID: String, level: Level, message: String, uri: String, line: Int, column: Int? = nil, fingerprint: String? = nil) {
            self.ruleID = ruleID
            self.level = level
            self.message = message
            self.uri = uri
            self.line = line
            self.column = column
            self.fingerprint = fingerprint
        }
    }

    public var toolName: String
    public var toolVersion: String
    public var informationURI: String
    public var rules: [Rule]
    public var results: [Result]

    public init(toolName: String, toolVersion: String, informationURI: String = "https://github.com/rollout/rollout", rules: [Rule], results: [Result]) {
        self.toolName = toolName
        self.toolVersion = toolVersion
        self.informationURI = informationURI
        self.rules = rules
        self.results = results
    }

    public static let schemaURI = "https://json.schemastore.org/sarif-2.1.0.json"

    /// The log as JSON.
    public var json: JSONValue {
        let index = Dictionary(rules.enumerated().map { ($0.element.id, $0.offset) }, uniquingKeysWith: { first, _ in first })
        let driver: JSONValue = [
            "name": .string(toolName), "version": .string(toolVersion), "semanticVersion": .string(toolVersion),
            "informationUri": .string(informationURI),
            "rules": .array(rules.map { rule in
                [
                    "id": .string(rule.id), "name": .string(rule.name),
                    "shortDescription": ["text": .string(rule.description)],
                    "fullDescription": ["text": .string(rule.description)],
                    "defaultConfiguration": ["level": .string(rule.level.rawValue)],
                ]
            }),
        ]
        return [
            "$schema": .string(Self.schemaURI),
            "version": "2.1.0",
            "runs": [[
                "tool": ["driver": driver],
                "columnKind": "unicodeCodePoints",
                "results": .array(results.map { result in
                    var region: [String: JSONValue] = ["startLine": .number(Double(max(1, result.line)))]
                    if let column = result.column, column > 0 { region["startColumn"] = .number(Double(column)) }
                    var object: [String: JSONValue] = [
                        "ruleId": .string(result.ruleID),
                        "level": .string(result.level.rawValue),
                        "message": ["text": .string(result.message)],
                        "locations": [[
                            "physicalLocation": [
                                "artifactLocation": ["uri": .string(result.uri)],
                                "region": .object(region),
                            ],
                        ]],
                    ]
                    if let i = index[result.ruleID] { object["ruleIndex"] = .number(Double(i)) }
                    if let fingerprint = result.fingerprint { object["partialFingerprints"] = ["rolloutFinding/v1": .string(fingerprint)] }
                    return .object(object)
                }),
            ]],
        ]
    }

    /// A file path as SARIF wants it: relative to `root` (the repository, by default the working
    /// directory) with forward slashes; a path outside it stays absolute, as a file URI.
    public static func uri(_ path: String, root: String = FileManager.default.currentDirectoryPath) -> String {
        let absolute = path.hasPrefix("/") ? path : (root as NSString).appendingPathComponent(path)
        let standard = (absolute as NSString).standardizingPath
        let base = ((root as NSString).standardizingPath as NSString).appendingPathComponent("")
        if standard.hasPrefix(base + "/") || (base.hasSuffix("/") && standard.hasPrefix(base)) {
            return String(standard.dropFirst(base.hasSuffix("/") ? base.count : base.count + 1))
        }
        return URL(fileURLWithPath: standard).absoluteString
    }
}
