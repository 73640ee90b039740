import Foundation

/// A JUnit XML report as values: what `rollout fuzz`, `score`, `gate` and `lint --junit` write for CI,
/// and what the gate reads back. It holds only what every consumer reads (shared/junit/README.md).
public struct JUnitReport: Sendable, Hashable {
    public var name: String
    public var suites: [JUnitSuite]

    public init(name: String, suites: [JUnitSuite]) {
        self.name = name
        self.suites = suites
    }

    public var tests: Int { suites.reduce(0) { $0 + $1.cases.count } }
    public var failures: Int { suites.reduce(0) { $0 + $1.failures } }
    public var errors: Int { suites.reduce(0) { $0 + $1.errors } }
    public var skipped: Int { suites.reduce(0) { $0 + $1.skipped } }
    public var time: Double { suites.reduce(0) { $0 + $1.time } }

    /// The value of property `name` in the first suite that has it.
    public func property(_ name: String) -> String? {
        for suite in suites {
            if let value = suite.properties.first(where: { $0.name == name })?.value { return value }
        }
        return nil
    }
}

/// One `<testsuite>`: a tool, a tenant, a file.
public struct JUnitSuite: Sendable, Hashable {
    public var name: String
    public var timestamp: Date
    public var hostname: String
    /// Run metadata: seed, policy digest, tool version, tenant, stage.
    public var properties: [JUnitProperty]
    public var cases: [JUnitCase]
    /// Seconds; the sum of the cases when not set.
    public var explicitTime: Double?

    public init(name: String, timestamp: Date, hostname: String = JUnitSuite.defaultHostname, properties: [JUnitProperty] = [], cases: [JUnitCase] = [], time: Double? = nil) {
        self.name = name
        self.timestamp = timestamp
        self.hostname = hostname
        self.properties = properties
        self.cases = cases
        self.explicitTime = time
    }

    public var failures: Int { cases.filter { if case .failure = $0.result { true } else { false } }.count }
    public var errors: Int { cases.filter { if case .error = $0.result { true } else { false } }.count }
    public var skipped: Int { cases.filter { if case .skipped = $0.result { true } else { false } }.count }
    public var time: Double { explicitTime ?? cases.reduce(0) { $0 + $1.time } }

    public static var defaultHostname: String { ProcessInfo.processInfo.hostName }
}

public struct JUnitProperty: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// One `<testcase>`: an attack class on a tool, a gate, a day and signal.
public struct JUnitCase: Sendable, Hashable {
    public enum Result: Sendable, Hashable {
        case passed
        /// The check found a problem. `message` is one line; `body` repeats it with the details.
        case failure(message: String, type: String, body: String)
        /// The check could not run.
        case error(message: String, type: String, body: String)
        case skipped(message: String)
    }

    public var classname: String
    public var name: String
    public var time: Double
    public var result: Result
    /// Source position, written only in the GitHub profile.
    public var file: String?
    public var line: Int?
    public var systemOut: String?

    public init(classname: String, name: String, time: Double = 0, result: Result = .passed, file: String? = nil, line: Int? = nil, systemOut: String? = nil) {
        self.classname = classname
        self.name = name
        self.time = time
        self.result = result
        self.file = file
        self.line = line
        self.systemOut = systemOut
    }
}
