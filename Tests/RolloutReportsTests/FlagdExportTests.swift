import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

@testable import RolloutReports

@Suite("flagd export")
struct FlagdExportTests {
    /// flagd's evaluation of a flag for a context, done with our JsonLogic engine: targeting gives a
    /// variant name; none (or no targeting) gives the default.
    func evaluate(_ flag: JSONValue, tenant: String?) throws -> String? {
        guard let targeting = flag["targeting"] else { return flag["defaultVariant"]?.stringValue }
        let context: JSONValue = tenant.map { ["tenant": .string($0)] } ?? [:]
        let variant = try JsonLogicRule(targeting).evaluate(context)
        return variant.stringValue ?? flag["defaultVariant"]?.stringValue
    }

    @Test("every tenant and tool evaluates to the stage rollout gives it; unknown tenants and no context are off")
    func matchesStages() throws {
        let policy = try Policy.load(path: TestPaths.exampleFolder + "/policy.yaml")
        var tenants = try RolloutFolder(directory: TestPaths.exampleFolder).loadTenants(policy: policy)
        tenants.tenants.append(TenantConfig(id: "umbrella", stage: .broad, tools: ["orders.delete": .off], paused: true))
        tenants.tenants.append(TenantConfig(id: "hooli", stage: .broad, tools: ["orders.delete": .shadow]))
        let tools = policy.tools.map(\.name)
        let document = FlagdExport.document(tenants, tools: tools)
        #expect(document["$schema"] == .string(FlagdExport.schema))
        let flags = try #require(document["flags"]?.objectValue)
        #expect(flags.count == tools.count)
        for tool in tools {
            let flag = try #require(flags[FlagdExport.flagKey(tool: tool)])
            #expect(flag["defaultVariant"] == "off" && flag["state"] == "ENABLED")
            #expect(flag["variants"]?.objectValue?.keys.sorted() == ["broad", "off", "shadow", "soft"])
            for t in tenants.tenants {
                #expect(try evaluate(flag, tenant: t.id) == tenants.stage(tenant: t.id, tool: tool).rawValue, "\(t.id) \(tool)")
            }
            #expect(try evaluate(flag, tenant: "nobody") == "off")
            #expect(try evaluate(flag, tenant: nil) == "off")
        }
    }

    @Test("the export is stable: the same stages give the same bytes, another stage another version")
    func stable() throws {
        let a = TenantsFile(tenants: [TenantConfig(id: "a", stage: .soft), TenantConfig(id: "b", stage: .shadow)])
        var b = a
        b.tenants.reverse()
        #expect(FlagdExport.text(a, tools: ["x", "y"]) == FlagdExport.text(b, tools: ["x", "y"]))
        var c = a
        c.tenants[0].stage = .broad
        #expect(FlagdExport.document(a, tools: ["x"])["metadata"]?["version"] != FlagdExport.document(c, tools: ["x"])["metadata"]?["version"])
    }

    @Test("a file rollout wrote reads back as the stages it was written from; one naming a tenant in two Unicode forms (two tenants to flagd, one to Swift) is not read")
    func readBack() throws {
        let policy = try Policy.load(path: TestPaths.exampleFolder + "/policy.yaml")
        let tenants = try RolloutFolder(directory: TestPaths.exampleFolder).loadTenants(policy: policy)
        let tools = policy.tools.map(\.name)
        #expect(FlagdExport.stages(of: FlagdExport.document(tenants, tools: tools)) == FlagdExport.stages(tenants, tools: tools))
        let twoForms = FlagdExport.document(stages: ["x": ["cafe\u{301}": .off]], tools: ["x"])
        var flag = try #require(twoForms["flags"]?["write-tool.x"]?.objectValue)
        flag["targeting"] = ["if": [["in": [["var": "tenant"], ["cafe\u{301}"]]], "off", ["in": [["var": "tenant"], ["caf\u{E9}"]]], "soft", "off"]]
        let document: JSONValue = ["flags": ["write-tool.x": .object(flag)]]
        #expect(FlagdExport.stages(of: document) == nil)
    }
}
