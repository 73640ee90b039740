import CLibXML2
import Foundation
import RolloutCore

/// Reads a JUnit XML report back into values, through libxml2: the gate reads fuzz and score
/// reports this way. Accepts a `<testsuites>` root or a single `<testsuite>`; nested suites are
/// flattened; CDATA and entities are resolved by the parser.
public enum JUnitReader {
    public struct ReadError: Error, CustomStringConvertible {
        public var path: String
        public var message: String
        public var description: String { "\(path): \(message)" }
    }

    public static func read(path: String) throws -> JUnitReport {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ReadError(path: path, message: FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file")
        }
        return try parse(data, path: path)
    }

    public static func parse(_ data: Data, path: String = "report.xml") throws -> JUnitReport {
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue | XML_PARSE_NOCDATA.rawValue)
        let document: xmlDocPtr? = data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return nil }
            return xmlReadMemory(base.assumingMemoryBound(to: CChar.self), Int32(raw.count), path, "UTF-8", options)
        }
        guard let document else {
            let detail = xmlGetLastError().map { String(cString: $0.pointee.message).trimmingCharacters(in: .whitespacesAndNewlines) } ?? "not XML"
            throw ReadError(path: path, message: "not well-formed XML: \(detail)")
        }
        defer { xmlFreeDoc(document) }
        guard let root = xmlDocGetRootElement(document) else { throw ReadError(path: path, message: "empty document") }
        let report: JUnitReport
        switch name(root) {
        case "testsuites":
            var suites: [JUnitSuite] = []
            for child in elements(root, named: "testsuite") { try collect(child, into: &suites, path: path) }
            report = JUnitReport(name: attribute(root, "name") ?? "", suites: suites)
        case "testsuite":
            var suites: [JUnitSuite] = []
            try collect(root, into: &suites, path: path)
            return JUnitReport(name: attribute(root, "name") ?? "", suites: suites)
        default:
            throw ReadError(path: path, message: "the root element is <\(name(root))>, expected <testsuites> or <testsuite>")
        }
        try checkTotals(root, "the report", (report.tests, report.failures, report.errors, report.skipped), path: path)
        return report
    }

    /// The totals an element states (`tests`, `failures`, `errors`, `skipped`, where given) must be those
    /// of the cases it holds: a failure taken out of a report whose totals still count it is an edit,
    /// and the report is refused rather than read as green.
    private static func checkTotals(_ node: xmlNodePtr, _ what: String, _ counted: (Int, Int, Int, Int), path: String) throws {
        for (name, count) in [("tests", counted.0), ("failures", counted.1), ("errors", counted.2), ("skipped", counted.3)] {
            guard let stated = attribute(node, name) else { continue }
            if Int(stated.trimmingCharacters(in: .whitespaces)) != count {
                throw ReadError(path: path, message: "\(what) says \(name)=\"\(stated)\", and its test cases hold \(count): its totals and its cases disagree (was it edited?)")
            }
        }
    }

    private static func collect(_ node: xmlNodePtr, into suites: inout [JUnitSuite], path: String) throws {
        var suite = JUnitSuite(
            name: attribute(node, "name") ?? "",
            timestamp: attribute(node, "timestamp").flatMap(Timestamp.parse) ?? Date(timeIntervalSince1970: 0),
            hostname: attribute(node, "hostname") ?? "",
            time: attribute(node, "time").flatMap(Double.init))
        for properties in elements(node, named: "properties") {
            for property in elements(properties, named: "property") {
                suite.properties.append(JUnitProperty(attribute(property, "name") ?? "", attribute(property, "value") ?? ""))
            }
        }
        for element in elements(node, named: "testcase") {
            var testCase = JUnitCase(
                classname: attribute(element, "classname") ?? "", name: attribute(element, "name") ?? "",
                time: attribute(element, "time").flatMap(Double.init) ?? 0,
                file: attribute(element, "file"), line: attribute(element, "line").flatMap(Int.init))
            if let failure = elements(element, named: "failure").first {
                testCase.result = .failure(message: attribute(failure, "message") ?? "", type: attribute(failure, "type") ?? "", body: content(failure))
            } else if let error = elements(element, named: "error").first {
                testCase.result = .error(message: attribute(error, "message") ?? "", type: attribute(error, "type") ?? "", body: content(error))
            } else if let skipped = elements(element, named: "skipped").first {
                testCase.result = .skipped(message: attribute(skipped, "message") ?? "")
            }
            if let out = elements(element, named: "system-out").first { testCase.systemOut = content(out) }
            suite.cases.append(testCase)
        }
        suites.append(suite)
        let nested = elements(node, named: "testsuite")
        // A suite of suites may count its children's cases in its totals: only a leaf suite is checked.
        if nested.isEmpty {
            try checkTotals(node, "suite \(suite.name)", (suite.cases.count, suite.failures, suite.errors, suite.skipped), path: path)
        }
        for child in nested { try collect(child, into: &suites, path: path) }
    }

    private static func name(_ node: xmlNodePtr) -> String {
        node.pointee.name.map { String(cString: $0) } ?? ""
    }

    private static func elements(_ node: xmlNodePtr, named wanted: String) -> [xmlNodePtr] {
        var out: [xmlNodePtr] = []
        var child = node.pointee.children
        while let current = child {
            if current.pointee.type == XML_ELEMENT_NODE, name(current) == wanted { out.append(current) }
            child = current.pointee.next
        }
        return out
    }

    private static func attribute(_ node: xmlNodePtr, _ attributeName: String) -> String? {
        guard let value = xmlGetProp(node, attributeName) else { return nil }
        defer { rollout_xml_free(value) }
        return String(cString: value)
    }

    private static func content(_ node: xmlNodePtr) -> String {
        guard let value = xmlNodeGetContent(node) else { return "" }
        defer { rollout_xml_free(value) }
        return String(cString: value)
    }
}
