import Foundation

/// The example policy with four planted weaknesses, one per baseline rule: orders.update takes an
/// optional reason, customers.update_contact has no cap, refunds.issue writes an amount with no rule,
/// orders.bulk_update runs without a dry-run threshold.
public enum PlantedWeaknesses {
    /// (tool, attack class) of each planted weakness.
    public static let expected: Set<String> = [
        "orders.update/reason", "customers.update_contact/caps", "refunds.issue/values", "orders.bulk_update/rows", "refunds.issue/tenant",
    ]

    public static func policyText() throws -> String {
        var text = try String(contentsOfFile: TestPaths.exampleFolder + "/policy.yaml", encoding: .utf8)
        let edits: [(String, String)] = [
            ("    writable: [status, notes, shipping_address]\n", "    writable: [status, notes, shipping_address]\n    reason: optional\n"),
            ("    reason: {required: true, min_length: 12, boilerplate: [n/a, none, test, update, customer asked, as requested]}\n    cap: {max: 50, per: 1h}",
             "    reason: {required: true, min_length: 12, boilerplate: [n/a, none, test, update, customer asked, as requested]}\n    cap: none"),
            ("      amount_cents: {type: integer, min: 1, max: 500000}", "      amount_cents: {type: integer}"),
            ("      order_id: {type: integer, min: 1, references: Order}", "      order_id: {type: integer, min: 1}"),
            ("    dry_run: {required_above_rows: 5}        # above 5 rows, a matching dry run must come first\n", ""),
        ]
        for (find, replace) in edits {
            guard text.contains(find) else { throw CocoaError(.fileReadCorruptFile, userInfo: [NSDebugDescriptionErrorKey: "example policy changed: \(find)"]) }
            text = text.replacingOccurrences(of: find, with: replace)
        }
        return text
    }

    /// A rollout folder holding the weakened policy and the example's tenants.
    public static func folder() throws -> String {
        let dir = TestPaths.temporaryDirectory("weak")
        try policyText().write(to: dir.appendingPathComponent("policy.yaml"), atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: TestPaths.exampleFolder + "/tenants.yaml", toPath: dir.appendingPathComponent("tenants.yaml").path)
        return dir.path
    }
}
