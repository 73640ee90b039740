import Foundation

/// The commented starter `rollout/` that `rollout init` writes: one model, one write tool with every
/// control switched on, one tenant that is off. It passes lint as written.
public enum StarterFolder {
    public static let policy = """
        # The write policy: which models your agent may write, and the controls on every write tool.
        # Check it with `rollout lint`; try every tool against it with `rollout fuzz`.
        version: 1

        # Controls every tool gets unless it says otherwise.
        defaults:
          reason: required            # a real reason on every write; blank and stock phrases are refused
          idempotency: required       # a key per write; a retry with the same key replays, never re-runs
          cap: {max: 200, per: 1h}    # at most 200 calls per tenant and tool per hour

        # The tables an agent may write. The tenant field is never writable and always scoped.
        models:
          Order:
            table: orders
            key: id
            tenant_field: tenant_id
            fields:
              status: {type: string, in: [pending, shipped, cancelled]}
              amount_cents: {type: integer, min: 0}
              notes: {type: string, max_length: 2000, nullable: true}

        # One entry per write tool the agent can call.
        tools:
          orders.update:
            model: Order
            operation: update                  # create | update | delete | bulk_update
            writable: [status, notes]          # every other field is refused
            approval:                          # JsonLogic over {tool, tenant, actor, args, before, after, rows}
              when: {"==": [{"var": "after.status"}, "cancelled"]}
            cap: {max: 100, per: 1h}
            # Where the tool's arguments hold each part of the request (JSON pointers).
            bind: {target: /id, fields: /data, reason: /reason, idempotency_key: /idempotency_key}

        """

    public static let tenants = """
        # Which tenant may use which write tool, at which stage: off -> shadow -> soft -> broad.
        # `rollout promote --tenant T` moves one step when every gate passes; `rollout demote` always works.
        version: 1

        gates:
          soak: 7d                  # time in a stage, with no anomaly, before the next
          min_coverage_days: 5      # days with traffic within the soak
          min_events: 50            # audited calls within the soak
          fuzz_report: reports/fuzz.xml
          approvers: []             # people who may approve a promotion to broad

        tenants:
          my-first-tenant:
            stage: off

        history: []

        """

    /// Writes the starter files into `directory`, creating it (with `policyText` instead of the example
    /// policy, for `init --from-mcp`). Refuses to replace an existing file unless `force` is set; returns
    /// the paths written.
    public static func write(to directory: String, force: Bool, policy policyText: String = policy) throws -> [String] {
        let files = [
            ((directory as NSString).appendingPathComponent("policy.yaml"), policyText),
            ((directory as NSString).appendingPathComponent("tenants.yaml"), tenants),
        ]
        if !force {
            let existing = files.map(\.0).filter { FileManager.default.fileExists(atPath: $0) }
            if !existing.isEmpty {
                throw FileExistsError(paths: existing)
            }
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (path, text) in files {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        }
        return files.map(\.0)
    }
}

/// `rollout init` found files it would replace.
public struct FileExistsError: Error, Sendable, CustomStringConvertible {
    public var paths: [String]

    public var description: String {
        "\(paths.joined(separator: ", ")) already exist\(paths.count == 1 ? "s" : ""); pass --force to replace"
    }
}
