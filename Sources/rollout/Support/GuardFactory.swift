import Foundation
import RolloutCore
import RolloutGuard
import RolloutStore

/// Builds the built-in guard over the user's store and rollout folder, for the commands that decide,
/// approve or roll back.
enum GuardFactory {
    static func make(folder: RolloutFolder, store: AuditStore) throws -> Guard {
        let policy = try folder.loadPolicy()
        let tenants = try folder.loadTenants(policy: policy)
        var seedTenants = tenants.tenants.map(\.id)
        if seedTenants.isEmpty { seedTenants = ["tenant-a", "tenant-b"] }
        let environment = try SQLiteEnvironment(store: store, policy: policy, seedTenants: seedTenants)
        return Guard(policy: policy, stages: tenants, environment: environment)
    }
}

extension Decision {
    /// The decision as printed by `--format json`.
    var json: JSONValue {
        var object: [String: JSONValue] = [
            "decision": .string(code.rawValue), "message": .string(message), "audit_id": .number(Double(auditSeq)),
            "result": result,
        ]
        if let approvalId { object["approval_id"] = .number(Double(approvalId)) }
        if let wouldBe { object["would_be"] = .string(wouldBe.rawValue) }
        return .object(object)
    }
}
