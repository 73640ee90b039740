import Crypto
import Foundation

/// `rollout/approvers.yaml`: the people who may decide queued writes in `rollout serve`, by the names
/// tenants.yaml already uses under `approvers:`. Each has the SHA-256 of a sign-in token (never the
/// token) and, for Slack, the Slack user id their button presses carry.
///
/// ```yaml
/// version: 1
/// approvers:
///   maria.lopez:
///     token_sha256: 9f86d0818...        # rollout serve --new-token maria.lopez writes this line
///     slack_user: U012AB3CD
/// ```
public struct ApproversFile: Sendable, Hashable {
    /// One person: the name four-eyes compares, the hash of their token, their Slack user id.
    public struct Approver: Sendable, Hashable {
        public var name: String
        public var tokenSHA256: String?
        public var slackUser: String?
        public var line: Int

        public init(name: String, tokenSHA256: String? = nil, slackUser: String? = nil, line: Int = 0) {
            self.name = name
            self.tokenSHA256 = tokenSHA256
            self.slackUser = slackUser
            self.line = line
        }
    }

    public var approvers: [Approver]
    public var file: String

    public init(approvers: [Approver] = [], file: String) {
        self.approvers = approvers
        self.file = file
    }

    /// Whether any approver can sign in.
    public var hasTokens: Bool { approvers.contains { $0.tokenSHA256 != nil } }

    /// The approver whose token this is (compared by its SHA-256, in constant time).
    public func approver(token: String) -> Approver? {
        let digest = Self.sha256(token)
        return approvers.first { approver in
            guard let stored = approver.tokenSHA256 else { return false }
            return Self.constantTimeEqual(stored, digest)
        }
    }

    public func approver(slackUser: String) -> Approver? {
        approvers.first { $0.slackUser == slackUser }
    }

    public static func sha256(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    public static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for i in x.indices { difference |= x[i] ^ y[i] }
        return difference == 0
    }

    static let topKeys = ["version", "approvers"]
    static let entryKeys = ["token_sha256", "slack_user", "description"]

    /// Reads the file; a missing file has no approvers. Throws `UnreadableInputError` or `DiagnosticsError`.
    public static func load(path: String) throws -> ApproversFile {
        guard FileManager.default.fileExists(atPath: path) else { return ApproversFile(file: path) }
        guard let root = try SourceDocument.load(path: path) else { return ApproversFile(file: path) }
        var reader = SourceReader(file: path)
        var result = ApproversFile(file: path)
        if let top = reader.mapping(root, "", allowed: topKeys) {
            if root["version"] == nil { reader.report(line: root.line, column: root.column, "version", "is missing", expected: "version: 1") }
            for item in top where item.key == "approvers" {
                guard let entries = reader.mapping(item.value, "approvers") else { continue }
                for entry in entries {
                    let p = "approvers.\(entry.key)"
                    guard let fields = reader.mapping(entry.value, p, allowed: entryKeys) else { continue }
                    var approver = Approver(name: entry.key, line: entry.line)
                    for field in fields {
                        let fp = "\(p).\(field.key)"
                        switch field.key {
                        case "token_sha256":
                            if let s = reader.string(field.value, fp) {
                                if s.count == 64, s.allSatisfy(\.isHexDigit) { approver.tokenSHA256 = s.lowercased() } else {
                                    reader.report(field.value, fp, "is not a SHA-256 in hex", expected: "64 hex digits (rollout serve --new-token NAME writes them)")
                                }
                            }
                        case "slack_user": approver.slackUser = reader.string(field.value, fp)
                        default: break
                        }
                    }
                    result.approvers.append(approver)
                }
            }
        }
        if reader.hasErrors { throw DiagnosticsError(reader.diagnostics) }
        return result
    }
}
