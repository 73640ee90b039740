import Foundation
import RolloutCore

/// Checks a compliance report folder written earlier: report.json's digest against its content, the
/// rows file against the digest the report states, the HTML against the digest, every file against
/// SHA256SUMS, and (given a way to read the store) the covered chain head against the log.
public enum ComplianceVerifier {
    public struct Outcome: Sendable {
        /// The digest recomputed from report.json.
        public var digest: String
        /// What does not match, one line each; empty when the report is as it was written.
        public var problems: [String]
    }

    /// `headHash` gives the stored hash of an event, or nil when there is none (pass nil to skip the store).
    /// `firstBreak` verifies the store's chain again and gives the first event where it breaks (nil when
    /// it holds): the report's verdict on its chain must be the store's, since the report's digests have
    /// no key and anyone can write a report whose verdict was turned and its digests made again.
    /// `rows` lists the calls of a period and scope again from the store, through an event, giving
    /// their count and digest: the rows the report states must be the store's (a row taken out of the
    /// files, with every digest made again, is found this way).
    public static func check(directory: String, headHash: ((Int64) throws -> String?)? = nil,
                             firstBreak: (() throws -> Int64?)? = nil,
                             rows: ((_ from: Date, _ to: Date, _ tenants: [String], _ through: Int64) throws -> (count: Int, digest: String))? = nil,
                             laterCall: ((_ from: Date, _ to: Date, _ tenants: [String], _ after: Int64) throws -> Int64?)? = nil,
                             signature: ((_ digest: String) -> String)? = nil,
                             filesSignature: ((_ sums: String) -> String)? = nil,
                             eventTime: ((_ seq: Int64) throws -> Date?)? = nil) throws -> Outcome {
        let path = { (name: String) -> String in (directory as NSString).appendingPathComponent(name) }
        guard let data = FileManager.default.contents(atPath: path("report.json")) else {
            throw UnreadableInputError(Diagnostic(file: path("report.json"), line: 0, column: 0, path: "",
                                                  message: "no report.json: verifying needs the JSON form (written with --format json)"))
        }
        let document = try parse(data, file: path("report.json"))
        var problems: [String] = []
        let (stated, computed) = ComplianceReport.verifyDocument(document)
        if stated != computed { problems.append("report.json: states digest \(stated ?? "none") but its content hashes to \(computed)") }
        // With the key, the report must be signed by it: a report rewritten without the key (its digests
        // made again, its rows or how far it listed changed) is told apart.
        let statedSignature = document["signature"]?.stringValue
        if let signature {
            if statedSignature == nil {
                problems.append("report.json: carries no signature, and a chain key was given: it was written without the key (or by a rollout that did not sign reports), or its signature was removed")
            } else if statedSignature != signature(computed) {
                problems.append("report.json: its signature does not match its digest under the chain key: it was rewritten without the key, or signed with another")
            }
        }
        let statedRows = document["rows"]?["sha256"]?.stringValue
        if FileManager.default.fileExists(atPath: path("writes.jsonl")) {
            let rows = "sha256:" + (try FileDigest.sha256(path: path("writes.jsonl")))
            if rows != statedRows { problems.append("writes.jsonl: hashes to \(rows), the report states \(statedRows ?? "none")") }
        } else {
            // The rows are what the report is about: without them nothing says the stated digest is theirs.
            problems.append("writes.jsonl: missing, so the rows the report states (\(statedRows ?? "no digest")) cannot be checked")
        }
        // writes.csv is named by digest in report.json (written since the digest covered it): without that the CSV,
        // the form people open, could say anything its SHA256SUMS line was made again for.
        let statedCSV = document["rows"]?["csv_sha256"]?.stringValue
        if FileManager.default.fileExists(atPath: path("writes.csv")) {
            let csv = "sha256:" + (try FileDigest.sha256(path: path("writes.csv")))
            if statedCSV == nil {
                problems.append("writes.csv: report.json states no digest for it (rows.csv_sha256), so what it says is not the report's word")
            } else if csv != statedCSV {
                problems.append("writes.csv: hashes to \(csv), the report states \(statedCSV!)")
            }
        } else if let statedCSV {
            problems.append("writes.csv: missing, and the report states its digest \(statedCSV)")
        }
        if let html = FileManager.default.contents(atPath: path("report.html")).map({ String(decoding: $0, as: UTF8.self) }), !html.contains(computed) {
            problems.append("report.html: does not state the digest \(computed)")
        }
        problems += checkSums(path: path, filesSignature: filesSignature)
        if let headHash {
            if let seq = document["chain"]?["head"]?["seq"]?.intValue, let hash = document["chain"]?["head"]?["hash"]?.stringValue {
                if seq > 0 {
                    let found = try headHash(Int64(seq))
                    if found != hash { problems.append("the store: event #\(seq) has hash \(found ?? "none"), the report covered \(hash)") }
                }
            } else {
                problems.append("report.json: states no chain head (chain.head.seq and hash), so the store cannot confirm what it covered")
            }
        }
        if let firstBreak, let seq = document["chain"]?["head"]?["seq"]?.intValue {
            let broken = try firstBreak()
            // The covered part holds when the chain breaks only after the report's head (events appended since).
            let holds = broken.map { $0 > Int64(seq) } ?? true
            switch document["chain"]?["ok"]?.boolValue {
            case nil:
                problems.append("report.json: states no verdict on its chain (chain.ok), so what it says of the log cannot be checked")
            case true? where !holds:
                problems.append("the store: its chain breaks at event #\(broken ?? 0), within what the report covered, but the report says the chain verified")
            case false? where holds:
                problems.append("the store: its chain verifies up to event #\(seq), but the report says it breaks")
            default:
                break
            }
            // A report that says so honestly is still no account of the calls: the store's record of them was changed.
            if !holds {
                problems.append("the store: its chain breaks at event #\(broken ?? 0), within what the report covered: the calls it lists cannot be vouched for (rollout audit verify says where and how)")
            }
        }
        if let rows {
            let period = (document["period"]?["from"]?.stringValue.flatMap(Timestamp.parse), document["period"]?["to"]?.stringValue.flatMap(Timestamp.parse))
            let through = document["rows"]?["through"]?.intValue ?? document["chain"]?["head"]?["seq"]?.intValue
            let tenants = document["scope"]?.arrayValue?.compactMap(\.stringValue)
            // The rows are listed through the head when the listing began; the chain head the report states was read
            // by its verification, at that point or later (a guard may write between the two).
            if let through, let head = document["chain"]?["head"]?["seq"]?.intValue, through > head {
                problems.append("report.json: lists its rows through event #\(through), past the chain head #\(head) it states; a report lists at most through its head")
            }
            if let from = period.0, let to = period.1, let through, let tenants {
                let listed = try rows(from, to, tenants, Int64(through))
                let statedCount = document["rows"]?["count"]?.intValue
                if listed.digest != statedRows || listed.count != statedCount {
                    problems.append("the store: the calls of the report's period and scope, through event #\(through), are \(listed.count) hashing to \(listed.digest); the report states \(statedCount.map(String.init) ?? "no count") hashing to \(statedRows ?? "none"): rows were taken out, added or changed")
                }
                // How far it listed is the report's own word, which has no key: a call of its period written
                // by a guard before the report was made, past that point, would have been listed. When it was
                // made is its word too, so it may not come before the chain head it states.
                if let laterCall {
                    let made = document["generated_at"]?.stringValue.flatMap(Timestamp.parse)
                    let headSeq = document["chain"]?["head"]?["seq"]?.intValue.map(Int64.init)
                    if let made {
                        // Hosts' clocks differ: a head written by a host ahead by less than the slack is no sign.
                        if let headSeq, headSeq > 0 {
                            guard let eventTime, let headTime = try eventTime(headSeq) else {
                                throw UnreadableInputError(Diagnostic(file: path("report.json"), line: 0, column: 0, path: "chain.head.seq",
                                                                      message: "the store holds no event #\(headSeq), the chain head the report states"))
                            }
                            if made.addingTimeInterval(Self.writeSlack) < headTime {
                                problems.append("report.json: says it was made at \(Timestamp.formatSeconds(made)), before event #\(headSeq) it says it covered (\(Timestamp.formatSeconds(headTime))): its time was changed")
                            }
                        }
                    }
                    // Without a key, when the report was made and how far it listed are its own word, which a forger can
                    // move back: every call of its period and scope past how far it listed counts against it, whenever it
                    // was written, but for its last `writeSlack` (a call decided before the period's end may commit after
                    // the listing began, or come from a host whose clock is behind). A report made before its period
                    // ended is then no account of the whole period, and verification says so.
                    if let seq = try laterCall(from, max(from, to.addingTimeInterval(-Self.writeSlack)), tenants, Int64(through)) {
                        problems.append("the store: event #\(seq) is a call of the report's period and scope past event #\(through), the last the report says it listed: calls were left out, or came after the report was made (made before its period ended, it covers only what was written by then; make it again, or sign reports with ROLLOUT_CHAIN_KEY)")
                    }
                    if made == nil {
                        problems.append("report.json: states no time it was made (generated_at), so whether it left calls out cannot be told")
                    }
                }
            } else {
                problems.append("report.json: states no period, scope or chain head, so its rows cannot be listed again from the store")
            }
        }
        return Outcome(digest: computed, problems: problems)
    }

    /// The file that holds the chain key's signature of SHA256SUMS, beside it.
    public static let sumsSignatureFile = "SHA256SUMS.sig"

    /// The files a report folder holds, which SHA256SUMS lists.
    public static let reportFiles: Set<String> = ["writes.csv", "writes.jsonl", "report.json", "report.html"]

    /// SHA256SUMS names each file of the report present, by its name in the folder, and each line is one of
    /// them with its digest; with the key (`filesSignature`), the list carries the key's signature.
    static func checkSums(path: (String) -> String, filesSignature: ((String) -> String)?) -> [String] {
        guard let data = FileManager.default.contents(atPath: path("SHA256SUMS")) else { return ["SHA256SUMS: missing"] }
        let sums = String(decoding: data, as: UTF8.self)
        var problems: [String] = []
        var listed: Set<String> = []
        for (number, line) in sums.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            let name = parts.count == 2 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
            guard parts.count == 2, reportFiles.contains(name), parts[0].utf8.count == 64 else {
                problems.append("SHA256SUMS:\(number + 1): '\(line.prefix(120))' is not a digest and the name of one of the report's files (\(reportFiles.sorted().joined(separator: ", ")))")
                continue
            }
            listed.insert(name)
            if (try? FileDigest.sha256(path: path(name))) != parts[0] { problems.append("\(name): does not match SHA256SUMS") }
        }
        for name in reportFiles.sorted() where !listed.contains(name) && FileManager.default.fileExists(atPath: path(name)) {
            problems.append("\(name): not listed in SHA256SUMS")
        }
        if let filesSignature {
            let stated = FileManager.default.contents(atPath: path(sumsSignatureFile)).map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
            if stated == nil {
                problems.append("\(sumsSignatureFile): missing, and a chain key was given: report.html and writes.csv are then nobody's word (written without the key, or by a rollout that did not sign the list)")
            } else if stated != filesSignature(sums) {
                problems.append("\(sumsSignatureFile): is not the chain key's signature of SHA256SUMS: the list of files (and so report.html or writes.csv) was rewritten, or signed with another key")
            }
        }
        return problems
    }

    /// A head written by a host whose clock is ahead of the report's by less than this is no sign that the
    /// report's time was moved back; calls of the period's last stretch this long are not held against a
    /// report that did not list them (without the key, a forger may leave out only those).
    static let writeSlack: TimeInterval = 120

    static func parse(_ data: Data, file: String) throws -> JSONValue {
        do {
            return try JSONValue.parse(data)
        } catch {
            throw UnreadableInputError(Diagnostic(file: file, line: error.line, column: error.column, path: "", message: "not JSON: \(error.message)"))
        }
    }
}
