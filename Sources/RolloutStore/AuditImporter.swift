import Foundation
import RolloutCore

/// What one `audit import` of one file did.
public struct ImportSummary: Sendable {
    public var file: String
    public var format: ImportFormat
    public var imported: Int
    public var firstSeq: Int64
    public var head: ChainHead
}

extension AuditStore {
    /// Imports every record of `path` (JSON Lines, optionally gzip-compressed; "-" for standard input)
    /// in one transaction: all of the file or none of it. The first bad record stops the import with its
    /// line number and field, and nothing of the file is kept. Blank lines are skipped.
    public func importFile(
        _ path: String, format: ImportFormat = .auto, redactor: Redactor = Redactor(),
        progress: ((Int) -> Void)? = nil
    ) throws -> ImportSummary {
        let reader = try LineReader(path: path)
        let name = path == "-" ? "<stdin>" : path
        var resolved = format == .auto ? nil : format
        return try write { tx in
            let firstSeq = tx.head.seq + 1
            var imported = 0
            while let outcome = try reader.next({ line -> Result<AuditEvent?, StoreError> in
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return .success(nil) }
                let record: JSONValue
                do throws(JSONParseError) {
                    record = try JSONValue.parse(bytes: line)
                } catch {
                    return .failure(.badRecord(file: name, line: reader.lineNumber, field: "", message: "not JSON: \(error.message) at column \(error.column)"))
                }
                let recordFormat = resolved ?? ImportFormat.detect(record)
                resolved = recordFormat
                do throws(AuditEventError) {
                    switch recordFormat {
                    case .ormai: return .success(try OrmAIRecord.event(record, redactor: redactor))
                    default:
                        var event = try AuditEvent(json: record)
                        event.seq = 0  // the store numbers events; an exported seq is not kept
                        event.changes = event.changes.map(redactor.redact)
                        return .success(event)
                    }
                } catch {
                    return .failure(.badRecord(file: name, line: reader.lineNumber, field: error.field, message: error.message))
                }
            }) {
                switch outcome {
                case .success(let event?):
                    _ = try tx.append(event)
                    imported += 1
                    if imported % 100_000 == 0 { progress?(imported) }
                case .success(nil):
                    continue
                case .failure(let error):
                    throw error
                }
            }
            return ImportSummary(file: name, format: resolved ?? .jsonl, imported: imported, firstSeq: firstSeq, head: tx.head)
        }
    }

    /// Writes events as JSON Lines (the interchange format) to `handle`, oldest first.
    public func export(to handle: FileHandle, tenant: String? = nil, redactor: Redactor = Redactor()) throws -> Int {
        var after: Int64 = 0
        var written = 0
        while true {
            let batch = try events(after: after, tenant: tenant, limit: 10_000)
            guard let last = batch.last else { return written }
            var text = ""
            for event in batch { text += event.json.canonicalText + "\n" }
            handle.write(Data(text.utf8))
            written += batch.count
            after = last.seq
        }
    }
}
