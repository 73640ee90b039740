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

    /// Each write tool's stage for each tenant above `off` (tool -> tenant -> stage); a tenant a tool's
    /// map leaves out is `off` for it, as the exported flag's default says.
    public typealias Stages = [String: [String: Stage]]

    /// What `tenants` gives every tool of `tools` (a paused tenant is off everywhere).
    public static func stages(_ tenants: TenantsFile, tools: [String]) -> Stages {
        var out: Stages = [:]
        for tool in tools {
            var byTenant: [String: Stage] = [:]
            for tenant in tenants.tenants where tenant.effectiveStage(tool: tool) != .off {
                byTenant[tenant.id] = tenant.effectiveStage(tool: tool)
            }
            out[tool] = byTenant
        }
        return out
    }

    /// The flag-definition document for `tools` (the policy's write tools, in its order).
    public static func document(_ tenants: TenantsFile, tools: [String]) -> JSONValue {
        document(stages: stages(tenants, tools: tools), tools: tools)
    }

    /// The flag-definition document giving each tool of `tools` the stages `stages` holds.
    public static func document(stages: Stages, tools: [String]) -> JSONValue {
        var flags: [String: JSONValue] = [:]
        for tool in tools {
            var flag: [String: JSONValue] = [
                "state": "ENABLED",
                "variants": .object(Dictionary(uniqueKeysWithValues: Stage.allCases.map { ($0.rawValue, JSONValue.string($0.rawValue)) })),
                "defaultVariant": .string(Stage.off.rawValue),
            ]
            // Highest stage first: each tenant appears in exactly one list, so the order only keeps diffs stable.
            var branches: [JSONValue] = []
            let byTenant = stages[tool] ?? [:]
            for stage in Stage.allCases.reversed() where stage != .off {
                let ids = byTenant.filter { $0.value == stage }.map(\.key).sorted()
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

    /// The stages a document of the shape this export writes gives; nil for any other document (edited by
    /// hand, or written by another tool), whose answers cannot be told without a flagd evaluator.
    public static func stages(of document: JSONValue) -> Stages? {
        guard case .object(let flags)? = document["flags"] else { return nil }
        var out: Stages = [:]
        for (key, flag) in flags {
            guard key.hasPrefix(flagPrefix), flag["state"] == "ENABLED", flag["defaultVariant"] == .string(Stage.off.rawValue),
                  case .object(let variants)? = flag["variants"],
                  variants == Dictionary(uniqueKeysWithValues: Stage.allCases.map { ($0.rawValue, JSONValue.string($0.rawValue)) })
            else { return nil }
            var byTenant: [String: Stage] = [:]
            if let targeting = flag["targeting"] {
                guard case .array(let branches)? = targeting["if"], branches.count % 2 == 1, branches.last == .string(Stage.off.rawValue),
                      case .object(let whole) = targeting, whole.count == 1
                else { return nil }
                for pair in stride(from: 0, to: branches.count - 1, by: 2) {
                    guard case .string(let name) = branches[pair + 1], let stage = Stage(rawValue: name),
                          case .object(let condition) = branches[pair], condition.count == 1,
                          case .array(let operands)? = condition["in"], operands.count == 2, operands[0] == ["var": "tenant"],
                          case .array(let ids) = operands[1]
                    else { return nil }
                    for id in ids {
                        // The first branch naming a tenant is the one flagd takes.
                        guard case .string(let tenant) = id else { return nil }
                        // Swift takes two Unicode forms of a name as one key, flagd as two tenants: such a file is not read.
                        if let seen = byTenant.index(forKey: tenant) {
                            guard byTenant.keys[seen].utf8.elementsEqual(tenant.utf8) else { return nil }
                        } else {
                            byTenant[tenant] = stage
                        }
                    }
                }
            }
            out[String(key.dropFirst(flagPrefix.count))] = byTenant.filter { $0.value != .off }
        }
        return out
    }

    /// The document as the file `flags export` writes (stable: sorted keys, two-space indent, final newline).
    public static func text(_ tenants: TenantsFile, tools: [String]) -> String {
        document(tenants, tools: tools).prettyText() + "\n"
    }
}
