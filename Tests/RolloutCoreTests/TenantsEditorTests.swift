import Foundation
import RolloutTestSupport
import Testing

@testable import RolloutCore

/// A stage change as the stage machine makes it, applied to the example tenants.yaml.
struct TenantsChange: Sendable, CustomTestStringConvertible {
    var name: String
    var apply: @Sendable (inout TenantsFile) -> Void
    var testDescription: String { name }
}

@Suite("tenants.yaml edited in place")
struct TenantsEditorTests {
    static let at = Timestamp.parse("2026-11-25T10:00:00Z")!

    static func change(_ tenant: String, _ action: StageChange.Action, tool: String? = nil, from: Stage?, to: Stage?) -> StageChange {
        StageChange(at: at, tenant: tenant, tool: tool, action: action, from: from, to: to, by: "maria.lopez", reason: "because: a ticket #42",
                    evidence: action == .promote ? ["policy": "sha256:abc", "audit_head": "00ff"] : [:])
    }

    static let cases: [TenantsChange] = [
        TenantsChange(name: "promote a tenant") { f in
            f.tenants[1].stage = .soft; f.tenants[1].since = at
            f.history.append(change("globex", .promote, from: .shadow, to: .soft))
        },
        TenantsChange(name: "promote a tenant that had no since") { f in
            f.tenants[2].stage = .shadow; f.tenants[2].since = at
            f.history.append(change("initech", .promote, from: .off, to: .shadow))
        },
        TenantsChange(name: "a tool of its own, then back to the tenant's stage") { f in
            f.tenants[0].tools["orders.delete"] = .off
            f.tenants[0].tools["customers.set_role"] = nil
            f.history.append(change("acme", .demote, tool: "orders.delete", from: .soft, to: .off))
        },
        TenantsChange(name: "the first tool of its own") { f in
            f.tenants[1].tools["orders.delete"] = .off
            f.history.append(change("globex", .demote, tool: "orders.delete", from: .shadow, to: .off))
        },
        TenantsChange(name: "pause, then an approval") { f in
            f.tenants[0].paused = true
            f.history.append(change("acme", .pause, from: .soft, to: .soft))
            f.history.append(change("acme", .approve, from: .soft, to: .broad))
        },
    ]

    @Test("each change reads back as intended and keeps every comment", arguments: cases)
    func edit(_ change: TenantsChange) throws {
        let path = TestPaths.exampleFolder + "/tenants.yaml"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let policy = try Policy.load(path: TestPaths.exampleFolder + "/policy.yaml")
        let old = try TenantsDecoder.load(text: text, file: path, policy: policy)
        var updated = old
        change.apply(&updated)
        let edited = try #require(TenantsEditor.edit(text, from: old, to: updated))
        var reread = try TenantsDecoder.load(text: edited, file: path, policy: policy)
        reread.file = updated.file
        #expect(reread == updated)
        let comments = { (t: String) -> [String] in
            t.split(separator: "\n").compactMap { line in line.firstIndex(of: "#").map { String(line[$0...]) } }
        }
        let kept = Set(comments(edited))
        for comment in comments(text) where !comment.contains("role changes") || updated.tenants[0].tools["customers.set_role"] != nil {
            #expect(kept.contains(comment), "lost: \(comment)")
        }
        // Only additions and the changed lines: the old file's lines mostly survive in order.
        let oldLines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let newLines = Set(edited.split(separator: "\n", omittingEmptySubsequences: false))
        #expect(oldLines.filter { !newLines.contains($0) }.count <= 3)
    }

    @Test("a layout it cannot edit in place gives nil, so the caller regenerates")
    func flowStyleFallsBack() throws {
        let text = "version: 1\ntenants: {acme: {stage: soft}}\nhistory: []\n"
        let old = try TenantsDecoder.load(text: text, file: "t.yaml", policy: nil)
        var updated = old
        updated.tenants[0].tools["orders.update"] = .off
        #expect(TenantsEditor.edit(text, from: old, to: updated) == nil)
        let regenerated = TenantsWriter.yaml(updated, header: "")
        var reread = try TenantsDecoder.load(text: regenerated, file: "t.yaml", policy: nil)
        reread.file = updated.file
        #expect(reread == updated)
    }

    @Test("plain scalars only where every YAML parser reads them back as the same string",
          arguments: ["maria.lopez", "two clean weeks", "off", "yes", "1.5", "2026-11-02", "a: b", "x #y", "-lead", "ok:", "", "ci-bot"])
    func scalars(_ s: String) throws {
        let written = TenantsWriter.scalar(s)
        let node = try #require(try SourceDocument.parse("k: \(written)\n", file: "t.yaml"))
        #expect(node["k"]?.value.json == .string(s), "\(written)")
        if ["off", "yes", "1.5", "2026-11-02"].contains(s) { #expect(written.hasPrefix("\"")) }
    }
}
