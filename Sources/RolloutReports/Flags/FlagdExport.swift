import Foundation
import RolloutCore

/// The per-tenant stages as flagd flag definitions (https://flagd.dev/reference/flag-definitions/), so that
/// any OpenFeature SDK with a flagd provider answers "which stage is tool X at for tenant T" the way
/// rollout does: one flag `write-tool.<tool>` per write tool, string variants `off | shadow | soft |
/// broad`, default `off` (an unknown tenant or a missing context fails closed), targeting on the
/// evaluation context's `tenant` field. A paused tenant is `off` everywhere.
public enum FlagdExport {
    public static let flagPrefix = "write-tool."
    public static let schema = "https://flagd.dev/schema/v0/flags.json"

    public static func flagKey(tool: String) -> String { flagPrefix + tool }

    /// The flag-definition document for `tools` (the policy's write tools, in its order).
    public static func document(_ tenants: TenantsFile, tools: [String]) -> JSONValue {
        var flags: [String: JSONValue] = [:]
        for tool in tools {
            var flag: [String: JSONValue] = [
                "state": "ENABLED",
                "variants": .object(Dictionary(uniqueKeysWithValues: Stage.allCases.map { ($0.rawValue, JSONValue.string($0.rawValue)) })),
                "defaultVariant": .string(Stage.off.rawValue),
            ]
            // Highest stage first: each tenant appears in exactly one list, so the order only keeps diffs stable.
            var branches: [JSONValue] = []
            for stage in Stage.allCases.reversed() where stage != .off {
                let ids = tenants.tenants.filter { $0.effectiveStage(tool: tool) == stage }.map(\.id).sorted()
                guard !ids.isEmpty else { continue }
                branches.append(["in": [["var": "tenant"], .array(ids.map(JSONValue.string))]])
                branches.append(.string(stage.rawValue))
            }
            if !branches.isEmpty {
                flag["targeting"] = ["if": .array(branches + [.string(Stage.off.rawValue)])]
            }
            flags[flagKey(tool: tool)] = .object(flag)
        }
        let body = JSONValue.object(flags)
        return [
            "$schema": .string(schema),
            "metadata": ["flagSetId": "rollout.write-tools", "version": .string("sha256:" + String(body.canonicalDigest.prefix(16)))],
            "flags": body,
        ]
    }

    /// The document as the file `flags export` writes (stable: sorted keys, two-space indent, final newline).
    public static func text(_ tenants: TenantsFile, tools: [String]) -> String {
        document(tenants, tools: tools).prettyText() + "\n"
    }
}
