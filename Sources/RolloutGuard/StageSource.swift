import Foundation
import RolloutCore

/// Where the guard learns each tenant's stage for a tool: `tenants.yaml`, or a fixed stage in tests
/// and fuzz runs.
public protocol StageSource: Sendable {
    func stage(tenant: String, tool: String) -> Stage
    /// Why a tool is off beyond its stage: the tenant is paused, or unknown. nil when its stage says it all.
    func offReason(tenant: String) -> String?
}

extension StageSource {
    public func offReason(tenant: String) -> String? { nil }
}

extension TenantsFile: StageSource {
    public func offReason(tenant id: String) -> String? {
        guard let config = tenant(id) else { return "tenant \(id) is not in tenants.yaml, so every write tool is off for it" }
        return config.paused ? "tenant \(id) is paused: every write tool is off until a person runs `rollout resume --tenant \(id)`" : nil
    }
}

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

/// `tenants.yaml` as it is now, for a long-running guard: the file is read again when it changes, so
/// a promotion, a demotion or a pause reaches the guard at its next call. A file that no longer
/// reads fails closed: every tool is off until it is fixed.
public final class LiveTenants: StageSource, @unchecked Sendable {
    public let folder: RolloutFolder
    public let policy: Policy?
    private let lock = NSLock()
    private var current: TenantsFile?
    private var stamp: FileStamp?
    private let log: @Sendable (String) -> Void

    public init(folder: RolloutFolder, policy: Policy?, log: @escaping @Sendable (String) -> Void = { _ in }) throws {
        self.folder = folder
        self.policy = policy
        self.log = log
        stamp = FileStamp.of(folder.tenantsPath)  // before reading, so an edit made meanwhile is seen
        current = try folder.loadTenants(policy: policy)
    }

    public func stage(tenant: String, tool: String) -> Stage {
        lock.lock()
        defer { lock.unlock() }
        let now = FileStamp.of(folder.tenantsPath)
        if now != stamp {
            stamp = now
            do {
                current = try folder.loadTenants(policy: policy)
                log("guard: \(folder.tenantsPath) changed; stages reloaded")
            } catch {
                current = nil
                log("guard: \(folder.tenantsPath) no longer reads (\(error)); every tool is off until it does")
            }
        }
        return current?.stage(tenant: tenant, tool: tool) ?? .off
    }

    public func offReason(tenant: String) -> String? {
        lock.lock()
        defer { lock.unlock() }
        guard let current else { return "tenants.yaml does not read, so every write tool is off" }
        return current.offReason(tenant: tenant)
    }
}
