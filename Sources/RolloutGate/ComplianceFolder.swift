import Foundation
import RolloutCore
import RolloutReports
import RolloutStore

/// `rollout report`'s folder: writes.csv and writes.jsonl (every call of the period, in chain order),
/// report.json and report.html, and SHA256SUMS over them. Every file is written beside its final name
/// and renamed at the end, so a failed run leaves the folder as it was.
public enum ComplianceFolder {
    /// What was written, and the report it holds.
    public struct Result: Sendable {
        public var report: ComplianceReport
        /// The files written (paths), SHA256SUMS last.
        public var files: [String]
    }

    public enum Format: String, Sendable, CaseIterable {
        case html, csv, json
    }

    public static func write(
        to directory: String, formats: Set<Format>, store: AuditStore, tenants: TenantsFile?, policy: Policy?,
        options: ComplianceOptions, now: Date, rolloutVersion: String, progress: ((String) -> Void)? = nil
    ) throws -> Result {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let csv = formats.contains(.csv) ? try StagedFile(directory: directory, name: "writes.csv") : nil
        let jsonl = formats.contains(.json) ? try StagedFile(directory: directory, name: "writes.jsonl") : nil
        var staged: [StagedFile] = [csv, jsonl].compactMap { $0 }
        do {
            try csv?.append(ComplianceRowFormat.csvHeader)
            let output = try ComplianceCollector.collect(store: store, tenants: tenants, policy: policy, options: options, now: now,
                                                         rolloutVersion: rolloutVersion, progress: progress,
                                                         linesDigest: jsonl.map { file in { try file.digestSoFar() } }) { rows, lines in
                if let csv {
                    var records: [UInt8] = []
                    records.reserveCapacity(rows.count * 256)
                    for row in rows { ComplianceRowFormat.appendCSV(row, to: &records) }
                    try csv.append(bytes: records)
                }
                try jsonl?.append(bytes: lines)
            }
            var report = output.report
            report.csvDigest = try csv?.digestSoFar()
            if formats.contains(.html) { report.htmlRows = output.firstRows.count }
            if formats.contains(.json) {
                let file = try StagedFile(directory: directory, name: "report.json")
                staged.append(file)
                // With the chain key, the digest is signed: the report is then told from one rewritten without it.
                var document = report.document.objectValue ?? [:]
                if let key = store.chainKey { document["signature"] = .string(key.mac(reportDigest: report.digest)) }
                try file.append(JSONValue.object(document).prettyText() + "\n")
            }
            if formats.contains(.html) {
                let file = try StagedFile(directory: directory, name: "report.html")
                staged.append(file)
                try file.append(ComplianceHTML.render(report, digest: report.digest, rows: output.firstRows))
            }
            var sums = ""
            for file in staged {
                try file.commit()
                sums += "\(file.sha256!)  \(file.name)\n"
            }
            // A file of an earlier report in the same folder, of a format not written now, is not this report's.
            for name in ComplianceVerifier.reportFiles.subtracting(staged.map(\.name)) {
                try? FileManager.default.removeItem(atPath: (directory as NSString).appendingPathComponent(name))
            }
            let sumsPath = (directory as NSString).appendingPathComponent("SHA256SUMS")
            try Data(sums.utf8).write(to: URL(fileURLWithPath: sumsPath), options: .atomic)
            // With the chain key, the list of files is signed: the HTML and the CSV are then the key's word too.
            let signaturePath = (directory as NSString).appendingPathComponent(ComplianceVerifier.sumsSignatureFile)
            if let key = store.chainKey {
                try Data((key.mac(reportFiles: sums) + "\n").utf8).write(to: URL(fileURLWithPath: signaturePath), options: .atomic)
                return Result(report: report, files: staged.map(\.path) + [sumsPath, signaturePath])
            }
            // One left by an earlier report with the key would not match this list: a stale signature is no signature.
            try? FileManager.default.removeItem(atPath: signaturePath)
            return Result(report: report, files: staged.map(\.path) + [sumsPath])
        } catch {
            for file in staged { file.discard() }
            throw error
        }
    }
}
