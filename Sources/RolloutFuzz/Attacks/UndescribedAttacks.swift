import RolloutCore

/// Every tool the target lists that the policy does not describe (neither a write tool nor a read),
/// and tools with realistic names that no policy names (`run_sql`, `orderArchive`): default deny says
/// each is refused, however harmless its name sounds. A server that answers one is an enforcement gap.
enum UndescribedAttacks {
    /// The names of the first measurement: 17 of these 20 were forwarded unaudited by a guard that
    /// trusted names.
    static let realisticNames = [
        "run_sql", "orderArchive", "get_or_purge_order", "execute", "admin.query", "db.raw", "sync_orders", "orders.archive",
        "export_customers", "maintenance", "migrate", "cleanup_stale", "reindex", "customer.merge", "recalculate_totals",
        "impersonate", "debug_eval", "shell", "apply_patch", "flush_cache",
    ]

    /// The suite the class reports under: the target's tool list, not one policy tool.
    public static let suite = "tools/list"

    static func plan(policy: Policy, listed: [String], tenants: FuzzTenants) -> [Attack] {
        var names = listed.filter { !policy.describes(wireName: $0) }
        for name in realisticNames where !names.contains(name) && !policy.describes(wireName: name) { names.append(name) }
        return names.map { name in
            let arguments: JSONValue = [
                "id": 1, "model": "Order", "reason": .string(CallFactory.goodReason), "sql": "DELETE FROM orders",
                "tenant_id": .string(tenants.other),
            ]
            return Attack(tool: suite, attackClass: .undescribed, variant: "calls \(name.debugDescription)",
                          step: AttackStep(ToolCall(tool: name, arguments: arguments)), expectation: .refused)
        }
    }
}
