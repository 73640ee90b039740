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
                             laterCall: ((_ from: Date, _ to: Date, _ tenants: [String], _ after: Int64, _ before: Date) throws -> Int64?)? = nil,
                             signature: ((_ digest: String) -> String)? = nil,
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
        if let html = FileManager.default.contents(atPath: path("report.html")).map({ String(decoding: $0, as: UTF8.self) }), !html.contains(computed) {
            problems.append("report.html: does not state the digest \(computed)")
        }
        if let sums = FileManager.default.contents(atPath: path("SHA256SUMS")).map({ String(decoding: $0, as: UTF8.self) }) {
            for line in sums.split(separator: "\n") {
                let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { continue }
                let name = parts[1].trimmingCharacters(in: .whitespaces)
                if (try? FileDigest.sha256(path: path(name))) != parts[0] { problems.append("\(name): does not match SHA256SUMS") }
            }
        } else {
            problems.append("SHA256SUMS: missing")
        }
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
        if let firstBreak, let seq = document["chain"]?["head"]?["seq"]?.intValue, let stated = document["chain"]?["ok"]?.boolValue {
            let broken = try firstBreak()
            // The covered part holds when the chain breaks only after the report's head (events appended since).
            let holds = broken.map { $0 > Int64(seq) } ?? true
            if stated && !holds {
                problems.append("the store: its chain breaks at event #\(broken ?? 0), within what the report covered, but the report says the chain verified")
            } else if !stated && holds {
                problems.append("the store: its chain verifies up to event #\(seq), but the report says it breaks")
            }
        }
        if let rows {
            let period = (document["period"]?["from"]?.stringValue.flatMap(Timestamp.parse), document["period"]?["to"]?.stringValue.flatMap(Timestamp.parse))
            let through = document["rows"]?["through"]?.intValue ?? document["chain"]?["head"]?["seq"]?.intValue
            let tenants = document["scope"]?.arrayValue?.compactMap(\.stringValue)
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
                        if let headSeq, headSeq > 0, let headTime = try eventTime?(headSeq), made.addingTimeInterval(Self.writeSlack) < headTime {
                            problems.append("report.json: says it was made at \(Timestamp.formatSeconds(made)), before event #\(headSeq) it says it covered (\(Timestamp.formatSeconds(headTime))): its time was changed")
                        }
                        if let seq = try laterCall(from, to, tenants, Int64(through), made.addingTimeInterval(-Self.writeSlack)) {
                            problems.append("the store: event #\(seq) is a call of the report's period written before the report was made, and the report says it listed its calls only through event #\(through): calls were left out")
                        }
                    } else {
                        problems.append("report.json: states no time it was made (generated_at), so whether it left calls out cannot be told")
                    }
                }
            } else {
                problems.append("report.json: states no period, scope or chain head, so its rows cannot be listed again from the store")
            }
        }
        return Outcome(digest: computed, problems: problems)
    }

    /// Calls written this close to the report's making may have come after its listing began (or from
    /// a host whose clock is behind the report's by less): they are not held against it. A guard host
    /// further behind makes an honest unsigned report fail here; with the chain key the report is signed
    /// and this check is not made.
    static let writeSlack: TimeInterval = 120

    static func parse(_ data: Data, file: String) throws -> JSONValue {
        do {
            return try JSONValue.parse(data)
        } catch {
            throw UnreadableInputError(Diagnostic(file: file, line: error.line, column: error.column, path: "", message: "not JSON: \(error.message)"))
        }
    }
}
