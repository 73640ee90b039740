import Foundation
import RolloutCore

/// A digest of what a JUnit report says, as a gate reads it: each suite's name and properties and each
/// case's name and outcome (times, hosts and texts left out, so reading a report back gives the digest
/// it was written with). Properties named `signatureProperty` are left out: they carry a signature made
/// over this digest (`rollout fuzz` with the chain key), which the gate checks.
public enum JUnitVerdictDigest {
    public static let signatureProperty = "rollout.signature"

    public static func of(_ report: JUnitReport) -> String {
        let suites: [JSONValue] = report.suites.map { suite in
            let properties = suite.properties.filter { $0.name != signatureProperty }.map { JSONValue.array([.string($0.name), .string($0.value)]) }
            let cases: [JSONValue] = suite.cases.map { c in
                let outcome: JSONValue
                switch c.result {
                case .passed: outcome = "passed"
                case .failure(_, let type, _): outcome = ["failure", .string(type)]
                case .error(_, let type, _): outcome = ["error", .string(type)]
                case .skipped: outcome = "skipped"
                }
                return [.string(c.classname), .string(c.name), outcome]
            }
            return ["name": .string(suite.name), "properties": .array(properties), "cases": .array(cases)]
        }
        return "sha256:" + JSONValue.array(suites).canonicalDigest
    }

    /// The report with `signature` as a property of every suite (the gate reads it from any).
    public static func signed(_ report: JUnitReport, signature: String) -> JUnitReport {
        var out = report
        for i in out.suites.indices {
            out.suites[i].properties.removeAll { $0.name == signatureProperty }
            out.suites[i].properties.append(JUnitProperty(signatureProperty, signature))
        }
        return out
    }

    /// The signatures a report carries (one, when `signed` made it).
    public static func signatures(_ report: JUnitReport) -> Set<String> {
        Set(report.suites.flatMap { $0.properties.filter { $0.name == signatureProperty }.map(\.value) })
    }
}
