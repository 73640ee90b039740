import RolloutCore

/// Where the guard learns each tenant's stage for a tool: `tenants.yaml`, or a fixed stage in tests
/// and fuzz runs.
public protocol StageSource: Sendable {
    func stage(tenant: String, tool: String) -> Stage
}

extension TenantsFile: StageSource {}

/// Every tool at one stage for every tenant (or per tool when given).
public struct FixedStages: StageSource {
    public var stage: Stage
    public var perTool: [String: Stage]

    public init(_ stage: Stage, perTool: [String: Stage] = [:]) {
        self.stage = stage
        self.perTool = perTool
    }

    public func stage(tenant: String, tool: String) -> Stage { perTool[tool] ?? stage }
}
