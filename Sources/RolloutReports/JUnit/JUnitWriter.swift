import CLibXML2
import Foundation
import RolloutCore

/// Writes a `JUnitReport` as XML through libxml2's text writer, in the subset every consumer reads:
/// flat suites, counts on every suite, UTC timestamps, times with at most three decimals, one result
/// per case, no CDATA, text cleaned of what XML 1.0 forbids. Validated in tests by shared/junit/validate.sh.
public enum JUnitWriter {
    public enum Profile: String, Sendable, CaseIterable {
        /// Jenkins' junit-10.xsd exactly.
        case strict
        /// Adds `file` and `line` on test cases, which GitHub and GitLab reporters read.
        case github
        /// Maven surefire's report format (its 3.0.2 schema): one `TEST-<suite>.xml` per suite, each with
        /// a `<testsuite>` root and only the attributes that schema lists. The report path is a folder.
        case surefire
    }

    public struct WriteError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The report as UTF-8 XML: a `<testsuites>` document, or in the surefire profile the document of
    /// the report's one suite (see `surefireFiles`).
    public static func xml(_ report: JUnitReport, profile: Profile = .strict) throws -> Data {
        guard let buffer = xmlBufferCreate() else { throw WriteError(description: "libxml2 could not allocate a buffer") }
        defer { xmlBufferFree(buffer) }
        guard let writer = xmlNewTextWriterMemory(buffer, 0) else { throw WriteError(description: "libxml2 could not create a writer") }
        var ok = true
        func check(_ rc: Int32) { if rc < 0 { ok = false } }
        check(xmlTextWriterSetIndent(writer, 1))
        check(xmlTextWriterSetIndentString(writer, "  "))
        check(xmlTextWriterStartDocument(writer, "1.0", "UTF-8", nil))

        func start(_ name: String) { check(xmlTextWriterStartElement(writer, name)) }
        func end() { check(xmlTextWriterEndElement(writer)) }
        func attribute(_ name: String, _ value: String) { check(xmlTextWriterWriteAttribute(writer, name, XMLText.clean(value))) }
        func text(_ value: String) { check(xmlTextWriterWriteString(writer, XMLText.clean(value))) }

        /// One `<testsuite>`: the whole document in the surefire profile, one of many otherwise.
        func writeSuite(_ suite: JUnitSuite, index: Int) {
            start("testsuite")
            attribute("name", suite.name)
            attribute("tests", String(suite.cases.count))
            attribute("failures", String(suite.failures))
            attribute("errors", String(suite.errors))
            attribute("skipped", String(suite.skipped))
            attribute("time", formatTime(suite.time))
            attribute("timestamp", Timestamp.formatSeconds(suite.timestamp))
            if profile != .surefire {
                attribute("hostname", suite.hostname)
                attribute("id", String(index))
            }
            if !suite.properties.isEmpty {
                start("properties")
                for property in suite.properties {
                    start("property")
                    attribute("name", property.name)
                    attribute("value", property.value)
                    end()
                }
                end()
            }
            for testCase in suite.cases {
                start("testcase")
                attribute("name", testCase.name)
                attribute("classname", testCase.classname)
                attribute("time", formatTime(testCase.time))
                if profile == .github {
                    if let file = testCase.file { attribute("file", file) }
                    if let line = testCase.line, line > 0 { attribute("line", String(line)) }
                }
                switch testCase.result {
                case .passed:
                    break
                case .failure(let message, let type, let body), .error(let message, let type, let body):
                    let isFailure = if case .failure = testCase.result { true } else { false }
                    start(isFailure ? "failure" : "error")
                    attribute("message", XMLText.oneLine(message))
                    attribute("type", type)
                    // GitLab shows only the body, so it starts with the message.
                    let oneLine = XMLText.oneLine(message)
                    text(body.hasPrefix(oneLine) ? body : oneLine + "\n\n" + body)
                    end()
                case .skipped(let message):
                    start("skipped")
                    attribute("message", XMLText.oneLine(message))
                    end()
                }
                if let out = testCase.systemOut {
                    start("system-out")
                    text(out)
                    end()
                }
                end()
            }
            end()
        }

        if profile == .surefire {
            guard report.suites.count == 1 else { throw WriteError(description: "a surefire document holds one suite; write the report with surefireFiles") }
            writeSuite(report.suites[0], index: 0)
            check(xmlTextWriterEndDocument(writer))
            xmlFreeTextWriter(writer)
            guard ok else { throw WriteError(description: "libxml2 failed while writing the report") }
            return Data(bytes: xmlBufferContent(buffer), count: Int(xmlBufferLength(buffer)))
        }
        start("testsuites")
        attribute("name", report.name)
        attribute("tests", String(report.tests))
        attribute("failures", String(report.failures))
        attribute("errors", String(report.errors))
        attribute("time", formatTime(report.time))
        for (index, suite) in report.suites.enumerated() { writeSuite(suite, index: index) }
        end()
        check(xmlTextWriterEndDocument(writer))
        xmlFreeTextWriter(writer)
        guard ok else { throw WriteError(description: "libxml2 failed while writing the report") }
        let length = Int(xmlBufferLength(buffer))
        guard let content = xmlBufferContent(buffer) else { return Data() }
        return Data(bytes: content, count: length)
    }

    /// One file per suite, as Maven writes them: `TEST-<suite>.xml` (the name made safe for a file
    /// system), each a `<testsuite>` document.
    public static func surefireFiles(_ report: JUnitReport) throws -> [(name: String, data: Data)] {
        var used: Set<String> = []
        return try report.suites.map { suite in
            let base = "TEST-" + String(suite.name.map { $0.isLetter || $0.isNumber || "._-".contains($0) ? $0 : "_" })
            var name = base + ".xml"
            var n = 2
            while used.contains(name) {
                name = base + "-\(n).xml"
                n += 1
            }
            used.insert(name)
            let single = JUnitReport(name: report.name, suites: [suite])
            return (name, try xml(single, profile: .surefire))
        }
    }

    /// Writes the report to `path` atomically, creating its folder; in the surefire profile `path` is a
    /// folder that gets one `TEST-<suite>.xml` per suite (its older TEST-*.xml files are removed first).
    public static func write(_ report: JUnitReport, to path: String, profile: Profile = .strict) throws {
        if profile == .surefire {
            let folder = URL(fileURLWithPath: path)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for old in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] where old.hasPrefix("TEST-") && old.hasSuffix(".xml") {
                try? FileManager.default.removeItem(at: folder.appendingPathComponent(old))
            }
            for file in try surefireFiles(report) { try file.data.write(to: folder.appendingPathComponent(file.name), options: .atomic) }
            return
        }
        let data = try xml(report, profile: profile)
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url, options: .atomic)
    }

    /// Seconds with exactly three decimals, never an exponent or a comma; negatives and NaN as 0.
    public static func formatTime(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds > 0 else { return "0.000" }
        let millis = Int64((seconds * 1000).rounded())
        let fraction = String(millis % 1000)
        return "\(millis / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
