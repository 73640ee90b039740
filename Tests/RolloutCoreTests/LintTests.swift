import Foundation
import Testing

@testable import RolloutCore
import RolloutTestSupport

@Suite("Lint and init")
struct LintTests {
    @Test("the example folder is clean")
    func exampleIsClean() {
        let report = Linter.lint(RolloutFolder(directory: TestPaths.exampleFolder))
        #expect(report.errorCount == 0, "\(report.diagnostics.map(\.description))")
        #expect(!report.unreadable)
    }

    @Test("the starter written by init passes lint, and init refuses to overwrite")
    func starter() throws {
        let dir = TestPaths.temporaryDirectory().appendingPathComponent("rollout").path
        let written = try StarterFolder.write(to: dir, force: false)
        #expect(written.count == 2)
        let report = Linter.lint(RolloutFolder(directory: dir))
        #expect(report.diagnostics.isEmpty, "\(report.diagnostics.map(\.description))")
        #expect(throws: FileExistsError.self) { try StarterFolder.write(to: dir, force: false) }
        #expect(try StarterFolder.write(to: dir, force: true).count == 2)
    }

    /// Lint of the example policy beside `tenants` as tenants.yaml.
    static func lintTenants(_ tenants: String) throws -> LintReport {
        let dir = TestPaths.temporaryDirectory()
        try FileManager.default.copyItem(atPath: TestPaths.exampleFolder + "/policy.yaml", toPath: dir.path + "/policy.yaml")
        try tenants.write(toFile: dir.path + "/tenants.yaml", atomically: true, encoding: .utf8)
        return Linter.lint(RolloutFolder(directory: dir.path))
    }

    @Test("tenants naming unknown tools or stages are reported against the policy")
    func tenantsChecked() throws {
        let report = try Self.lintTenants("""
            version: 1
            tenants:
              acme:
                stage: sof
                tools:
                  orders.updte: shadow
            """)
        #expect(report.diagnostics.map(\.path).sorted() == ["tenants.acme.stage", "tenants.acme.tools.orders.updte"])
        #expect(report.diagnostics.allSatisfy { $0.file.hasSuffix("tenants.yaml") && $0.line >= 4 })
    }

    @Test("a tenant id that is empty, padded with spaces or holds an invisible character is an error naming its line (flags export would target it)",
          arguments: [#""""#, #"" ""#, #"" acme""#, #""acme ""#, #""ac\u200dme""#, #""acme\u0007""#])
    func blankTenantIds(_ key: String) throws {
        let report = try Self.lintTenants("""
            version: 1
            tenants:
              globex:
                stage: soft
              \(key):
                stage: broad
            """)
        let errors = report.diagnostics.filter { $0.severity == .error }
        #expect(errors.count == 1 && errors.first?.line == 5 && errors.first?.message.contains("is not a tenant id") == true,
                "\(report.diagnostics.map(\.description))")
    }

    @Test("the upstreams and approvers files the guard and serve read are checked too")
    func startFilesChecked() throws {
        let dir = TestPaths.temporaryDirectory()
        try FileManager.default.copyItem(atPath: TestPaths.exampleFolder + "/policy.yaml", toPath: dir.path + "/policy.yaml")
        try """
            version: 1
            upstreams:
              demo:
                command: [python3, server.py]
                env: [WORK]
                observe: sqlite:${WORK/demo.db
            """.write(toFile: dir.path + "/upstreams.yaml", atomically: true, encoding: .utf8)
        try """
            version: 1
            approvers:
              dev.patel:
                token_sha256: not-a-digest
            """.write(toFile: dir.path + "/approvers.yaml", atomically: true, encoding: .utf8)
        let report = Linter.lint(RolloutFolder(directory: dir.path))
        #expect(report.files.contains { $0.hasSuffix("upstreams.yaml") } && report.files.contains { $0.hasSuffix("approvers.yaml") })
        let found = report.diagnostics.filter { $0.severity == .error }.map { "\(($0.file as NSString).lastPathComponent):\($0.line) \($0.path)" }
        #expect(found == ["upstreams.yaml:6 upstreams.demo.observe", "approvers.yaml:4 approvers.dev.patel.token_sha256"], "\(report.diagnostics.map(\.description))")
    }

    @Test("a missing policy is unreadable input")
    func missingPolicy() {
        let report = Linter.lint(RolloutFolder(directory: TestPaths.temporaryDirectory().path))
        #expect(report.unreadable)
        #expect(report.diagnostics.first?.message == "no such file")
    }
}
