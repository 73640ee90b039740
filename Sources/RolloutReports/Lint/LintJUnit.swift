import Foundation
import RolloutCore

/// `rollout lint --junit`: one suite, one test case per file checked, a failure listing every error
/// in that file (warnings go to the case's output), so CI shows lint problems beside test results.
public enum LintJUnit {
    public static func report(_ lint: LintReport, at time: Date, properties: [JUnitProperty] = []) -> JUnitReport {
        var cases: [JUnitCase] = []
        for file in lint.files {
            let mine = lint.diagnostics.filter { $0.file == file }
            let errors = mine.filter { $0.severity == .error }
            let warnings = mine.filter { $0.severity == .warning }
            var testCase = JUnitCase(classname: "rollout.lint", name: file)
            if !errors.isEmpty {
                let first = errors[0]
                let message = "\(errors.count) problem\(errors.count == 1 ? "" : "s") in \(file), first: \(first.path.isEmpty ? "" : first.path + ": ")\(first.message)"
                testCase.result = .failure(message: message, type: "lint", body: errors.map(\.description).joined(separator: "\n"))
                testCase.line = first.line
            }
            testCase.file = file
            if !warnings.isEmpty { testCase.systemOut = warnings.map(\.description).joined(separator: "\n") }
            cases.append(testCase)
        }
        let suite = JUnitSuite(name: "rollout lint", timestamp: time, properties: properties, cases: cases)
        return JUnitReport(name: "rollout lint", suites: [suite])
    }
}
