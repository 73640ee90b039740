import Foundation

/// What `rollout lint` found in a folder.
public struct LintReport: Sendable {
    /// Every problem, errors and warnings, in file order.
    public var diagnostics: [Diagnostic]
    /// True when some file could not be read or parsed at all.
    public var unreadable: Bool
    /// The files that were checked.
    public var files: [String]

    public var errorCount: Int { diagnostics.filter { $0.severity == .error }.count }
    public var warningCount: Int { diagnostics.filter { $0.severity == .warning }.count }
}

/// Checks a `rollout/` folder: the policy, the tenants file against the policy, and the flags,
/// upstreams and approvers files when there are. Reports every problem, not only the first.
public enum Linter {
    /// `expectedFlags` gives the flags document the tenants file implies (the flagd export), so that a
    /// flags file left behind by a stage change is an error.
    public static func lint(_ folder: RolloutFolder, extraChecks: [(Policy) -> [Diagnostic]] = [],
                            expectedFlags: ((TenantsFile, Policy) -> JSONValue)? = nil) -> LintReport {
        var report = LintReport(diagnostics: [], unreadable: false, files: [])
        var policy: Policy?
        var tenants: TenantsFile?

        report.files.append(folder.policyPath)
        do {
            if let root = try SourceDocument.load(path: folder.policyPath) {
                let (decoded, diagnostics) = PolicyDecoder.decode(root, file: folder.policyPath)
                report.diagnostics += diagnostics
                if !diagnostics.contains(where: { $0.severity == .error }) { policy = decoded }
            } else {
                report.diagnostics.append(Diagnostic(file: folder.policyPath, line: 1, column: 1, path: "", message: "the policy is empty"))
            }
        } catch let error as UnreadableInputError {
            report.diagnostics.append(error.diagnostic)
            report.unreadable = true
        } catch {
            report.diagnostics.append(Diagnostic(file: folder.policyPath, line: 0, column: 0, path: "", message: "\(error)"))
            report.unreadable = true
        }
        if let policy {
            // What the policy allows that the safety baseline does not: warnings, the same gaps fuzz reports.
            for gap in SafetyBaseline.gaps(policy) {
                report.diagnostics.append(Diagnostic(
                    file: folder.policyPath, line: policy.tool(named: gap.tool)?.sourceLine ?? 0, column: 3,
                    path: "tools.\(gap.tool)", message: "policy gap (\(gap.area.rawValue)): \(gap.message)", severity: .warning))
            }
            for check in extraChecks { report.diagnostics += check(policy) }
        }

        if FileManager.default.fileExists(atPath: folder.tenantsPath) {
            report.files.append(folder.tenantsPath)
            do {
                if let root = try SourceDocument.load(path: folder.tenantsPath) {
                    // Without a valid policy, tool names cannot be checked; everything else still is.
                    let (decoded, diagnostics) = TenantsDecoder.decode(root, file: folder.tenantsPath, policy: policy)
                    report.diagnostics += diagnostics
                    if !diagnostics.contains(where: { $0.severity == .error }) { tenants = decoded }
                }
            } catch let error as UnreadableInputError {
                report.diagnostics.append(error.diagnostic)
                report.unreadable = true
            } catch {
                report.diagnostics.append(Diagnostic(file: folder.tenantsPath, line: 0, column: 0, path: "", message: "\(error)"))
                report.unreadable = true
            }
        }

        if FileManager.default.fileExists(atPath: folder.flagsPath) {
            report.files.append(folder.flagsPath)
            do {
                let flags = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: folder.flagsPath)))
                let tenantsKnown = tenants != nil || !FileManager.default.fileExists(atPath: folder.tenantsPath)
                if let expectedFlags, let policy, tenantsKnown {
                    let expected = expectedFlags(tenants ?? TenantsFile(tenants: []), policy)
                    if flags["flags"] != expected["flags"] {
                        let have = flags["flags"]?.objectValue ?? [:], want = expected["flags"]?.objectValue ?? [:]
                        let differing = Set(have.keys).union(want.keys).filter { have[$0] != want[$0] }.sorted()
                        report.diagnostics.append(Diagnostic(
                            file: folder.flagsPath, line: 1, column: 1, path: "flags",
                            message: "out of date with \(folder.tenantsPath) (\(differing.prefix(3).joined(separator: ", "))\(differing.count > 3 ? ", …" : "")): run `rollout flags export`"))
                    }
                }
            } catch let error as JSONParseError {
                report.diagnostics.append(Diagnostic(
                    file: folder.flagsPath, line: error.line, column: error.column, path: "", message: "invalid JSON: \(error.message)"))
                report.unreadable = true
            } catch {
                report.diagnostics.append(Diagnostic(file: folder.flagsPath, line: 0, column: 0, path: "", message: "cannot read the file"))
                report.unreadable = true
            }
        }
        // The files the guard and serve read when they start: their mistakes stop a start, so lint says so first.
        let startFiles: [(String, (String) throws -> [Diagnostic])] = [
            (folder.upstreamsPath, { Self.inheritanceWarnings(try UpstreamsFile.load(path: $0)) }),
            (folder.approversPath, { _ = try ApproversFile.load(path: $0); return [] }),
        ]
        for (path, load) in startFiles where FileManager.default.fileExists(atPath: path) {
            report.files.append(path)
            do {
                report.diagnostics += try load(path)
            } catch let error as DiagnosticsError {
                report.diagnostics += error.diagnostics
            } catch let error as UnreadableInputError {
                report.diagnostics.append(error.diagnostic)
                report.unreadable = true
            } catch {
                report.diagnostics.append(Diagnostic(file: path, line: 0, column: 0, path: "", message: "\(error)"))
                report.unreadable = true
            }
        }
        // File by file, top to bottom, as an editor lists them.
        let order = Dictionary(uniqueKeysWithValues: report.files.enumerated().map { ($1, $0) })
        report.diagnostics = report.diagnostics.enumerated().sorted { a, b in
            let (fa, fb) = (order[a.element.file] ?? 0, order[b.element.file] ?? 0)
            if fa != fb { return fa < fb }
            if a.element.line != b.element.line { return a.element.line < b.element.line }
            if a.element.column != b.element.column { return a.element.column < b.element.column }
            return a.offset < b.offset
        }.map(\.element)
        return report
    }

    /// A warning for each upstream that inherits the whole environment: only its `env:` values are bound
    /// to its writes, so a variable its server reads that `env:` does not list can move an approved write.
    static func inheritanceWarnings(_ file: UpstreamsFile) -> [Diagnostic] {
        file.entries.filter { $0.inherit == nil }.map { entry in
            Diagnostic(file: file.file, line: entry.line, column: 1, path: "upstreams.\(entry.name)",
                       message: "inherits the whole environment, and only its env: variables are bound to its writes: a variable its server reads that env: does not list (a tenant, a state directory) can send an approved write or a rollback elsewhere",
                       expected: "inherit: none, or the names it may take unbound, e.g. inherit: [PATH, HOME]", severity: .warning)
        }
    }
}
