import Foundation

/// The user's `rollout/` folder: where its files are, and loading them together so that each is
/// checked against the others (a tenant naming a tool the policy lacks is an error).
public struct RolloutFolder: Sendable {
    public var directory: String
    public var policyPath: String
    public var tenantsPath: String
    public var flagsPath: String

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
    }

    /// Loads the policy; throws `UnreadableInputError` or `DiagnosticsError`.
    public func loadPolicy() throws -> Policy {
        try Policy.load(path: policyPath)
    }

    /// Loads `tenants.yaml`, checked against `policy`. A missing file is an empty tenant list.
    public func loadTenants(policy: Policy?) throws -> TenantsFile {
        guard FileManager.default.fileExists(atPath: tenantsPath) else { return TenantsFile(tenants: [], file: tenantsPath) }
        guard let root = try SourceDocument.load(path: tenantsPath) else { return TenantsFile(tenants: [], file: tenantsPath) }
        let (tenants, diagnostics) = TenantsDecoder.decode(root, file: tenantsPath, policy: policy)
        if let tenants, !diagnostics.contains(where: { $0.severity == .error }) { return tenants }
        throw DiagnosticsError(diagnostics)
    }
}
