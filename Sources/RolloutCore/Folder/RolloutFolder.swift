import Foundation

/// The user's `rollout/` folder: where its files are, and loading them together so that each is
/// checked against the others (a tenant naming a tool the policy lacks is an error).
public struct RolloutFolder: Sendable {
    public var directory: String
    public var policyPath: String
    public var tenantsPath: String
    public var flagsPath: String
    public var upstreamsPath: String
    public var approversPath: String

    /// `policyPath` defaults to `directory/policy.yaml` (or `policy.json` when only that exists).
    public init(directory: String = "rollout", policyPath: String? = nil) {
        self.directory = directory
        let yaml = (directory as NSString).appendingPathComponent("policy.yaml")
        let json = (directory as NSString).appendingPathComponent("policy.json")
        if let policyPath {
            self.policyPath = policyPath
        } else if !FileManager.default.fileExists(atPath: yaml), FileManager.default.fileExists(atPath: json) {
            self.policyPath = json
        } else {
            self.policyPath = yaml
        }
        tenantsPath = (directory as NSString).appendingPathComponent("tenants.yaml")
        flagsPath = (directory as NSString).appendingPathComponent("flags.flagd.json")
        upstreamsPath = (directory as NSString).appendingPathComponent("upstreams.yaml")
        approversPath = (directory as NSString).appendingPathComponent("approvers.yaml")
    }

    /// Loads `approvers.yaml`; a missing file has no approvers.
    public func loadApprovers() throws -> ApproversFile {
        try ApproversFile.load(path: approversPath)
    }

    /// Loads `upstreams.yaml`; a missing file has no entries.
    public func loadUpstreams() throws -> UpstreamsFile {
        try UpstreamsFile.load(path: upstreamsPath)
    }

    /// Loads the policy; throws `UnreadableInputError` or `DiagnosticsError`.
    public func loadPolicy() throws -> Policy {
        try Policy.load(path: policyPath)
    }

    /// The text of `tenants.yaml`, or nil when there is none.
    public func readTenantsText() throws -> String? {
        guard FileManager.default.fileExists(atPath: tenantsPath) else { return nil }
        guard let data = FileManager.default.contents(atPath: tenantsPath) else {
            throw UnreadableInputError(Diagnostic(file: tenantsPath, line: 0, column: 0, path: "", message: "cannot read the file"))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw UnreadableInputError(Diagnostic(file: tenantsPath, line: 0, column: 0, path: "", message: "the file is not UTF-8 text"))
        }
        return text
    }

    /// Loads `tenants.yaml`, checked against `policy`. A missing file is an empty tenant list.
    public func loadTenants(policy: Policy?) throws -> TenantsFile {
        guard let text = try readTenantsText() else { return TenantsFile(tenants: [], file: tenantsPath) }
        return try TenantsDecoder.load(text: text, file: tenantsPath, policy: policy)
    }
}
