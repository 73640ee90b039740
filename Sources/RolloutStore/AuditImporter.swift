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
    ///
    /// Two stages overlap: a reader thread parses records and writes their canonical bodies (each
    /// batch on every core), while this thread chains and inserts them in order.
    @discardableResult
    public func importFile(
        _ path: String, format: ImportFormat = .auto, redactor: Redactor = Redactor(),
        progress: ((ImportProgress) -> Void)? = nil
    ) throws -> ImportSummary {
        let reader = try LineReader(path: path)
        let name = path == "-" ? "<stdin>" : path
        return try write { tx in
            let firstSeq = tx.head.seq + 1
            let pipeline = ImportPipeline(reader: reader, file: name, format: format, redactor: redactor, firstSeq: firstSeq)
            pipeline.start()
            defer { pipeline.cancel() }
            var imported = 0
            while let batch = pipeline.next() {
                switch batch {
                case .success(let rows):
                    for row in rows {
                        try tx.append(prepared: row)
                        imported += 1
                        if imported % 20_000 == 0, let progress {
                            let fraction = reader.totalBytes.flatMap { $0 > 0 ? min(1, Double(reader.bytesRead) / Double($0)) : nil }
                            progress(ImportProgress(events: imported, fraction: fraction))
                        }
                    }
                case .failure(let error):
                    throw error
                }
            }
            return ImportSummary(file: name, format: pipeline.resolvedFormat ?? .jsonl, imported: imported, firstSeq: firstSeq, head: tx.head)
        }
    }

    /// Writes events as JSON Lines (the interchange format) to `handle`, oldest first.
    /// Writes the events as JSON Lines with every secret value `redactor` knows replaced by its mark:
    /// an imported record's `api_key` never leaves the store in clear. A full disk or a closed pipe is a
    /// thrown error, never a crash.
    public func export(to handle: FileHandle, tenant: String? = nil, redactor: Redactor) throws -> Int {
        var after: Int64 = 0
        var written = 0
        while true {
            let batch = try events(after: after, tenant: tenant, limit: 10_000)
            guard let last = batch.last else { return written }
            var bytes: [UInt8] = []
            for event in batch {
                bytes += redactor.redact(event).json.canonicalBytes
                bytes.append(0x0A)
            }
            do {
                try handle.write(contentsOf: Data(bytes))
            } catch {
                throw StoreError.io(path: "the export", detail: "cannot write: \(error.localizedDescription) (\(written) events were written before)")
            }
            written += batch.count
            after = last.seq
        }
    }
}

/// An event ready to append: its columns and its canonical body, sequence number included.
struct PreparedEvent: Sendable {
    var seq: Int64
    var body: [UInt8]
    /// The row's values but the chain's (`prev_hash`, `hash`, `mac`), made on the reading cores: the
    /// writer only links and inserts.
    var values: [SQLValue]

    init(event: AuditEvent) {
        seq = event.seq
        body = event.canonicalBytes
        values = StoreTransaction.values(event, body: body)
    }
}

/// The reading half of an import: parses and canonicalises records on its own thread, handing
/// batches to the writer through a bounded queue so memory stays flat whatever the file size.
final class ImportPipeline: @unchecked Sendable {
    private let reader: LineReader
    private let file: String
    /// What each event's `details.imported` says: the file's name.
    private let mark: JSONValue
    private let format: ImportFormat
    private let redactor: Redactor
    private let firstSeq: Int64
    private(set) var resolvedFormat: ImportFormat?

    private var queue: [Result<[PreparedEvent], StoreError>] = []
    private var finished = false
    private var cancelled = false
    private let condition = NSCondition()
    private static let capacity = 8
    private static let batchSize = 1024

    init(reader: LineReader, file: String, format: ImportFormat, redactor: Redactor, firstSeq: Int64) {
        self.reader = reader
        self.file = file
        mark = .string((file as NSString).lastPathComponent)
        self.format = format
        self.redactor = redactor
        self.firstSeq = firstSeq
        resolvedFormat = format == .auto ? nil : format
    }

    func start() {
        let thread = Thread { [self] in produce() }
        thread.stackSize = 8 << 20  // deep JSON documents recurse
        thread.start()
    }

    /// The next batch, or nil once the file is done.
    func next() -> Result<[PreparedEvent], StoreError>? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !finished { condition.wait() }
        if queue.isEmpty { return nil }
        let batch = queue.removeFirst()
        condition.signal()
        return batch
    }

    /// Stops the reader (after an error, or when the writer is done).
    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }

    private func push(_ item: Result<[PreparedEvent], StoreError>) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= Self.capacity && !cancelled { condition.wait() }
        if cancelled { return false }
        queue.append(item)
        condition.signal()
        return true
    }

    private func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// Reads lines in batches; each batch is parsed and canonicalised on every core, in two parallel
    /// steps around the one sequential step (numbering the events), so records keep their order and
    /// the first bad one is still the one reported.
    private func produce() {
        defer { finish() }
        var seq = firstSeq
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        var lines: [(bytes: [UInt8], number: Int)] = []
        lines.reserveCapacity(Self.batchSize)
        do {
            while true {
                lines.removeAll(keepingCapacity: true)
                while lines.count < Self.batchSize, let line = try reader.next({ Array($0) }) {
                    lines.append((line, reader.lineNumber))
                }
                if lines.isEmpty { break }
                // The first record decides an automatic format, before the batch is shared out.
                if resolvedFormat == nil, let first = lines.first(where: { !Self.isBlank($0.bytes) }),
                   let record = try? first.bytes.withUnsafeBufferPointer({ try JSONValue.parse(bytes: $0) }) {
                    resolvedFormat = ImportFormat.detect(record)
                }
                let format = resolvedFormat ?? .jsonl
                let parsed = ParallelMap.map(lines, workers: workers) { [file, mark, redactor] line in
                    line.bytes.withUnsafeBufferPointer { Self.prepare($0, number: line.number, file: file, mark: mark, format: format, redactor: redactor) }
                }
                var events: [AuditEvent] = []
                events.reserveCapacity(parsed.count)
                var failure: StoreError?
                for outcome in parsed {
                    switch outcome {
                    case .success(var event?):
                        event.seq = seq
                        seq += 1
                        events.append(event)
                    case .success(nil):
                        continue
                    case .failure(let error):
                        failure = error
                    }
                    if failure != nil { break }
                }
                let batch = ParallelMap.map(events, workers: workers) { PreparedEvent(event: $0) }
                if !batch.isEmpty { guard push(.success(batch)) else { return } }
                if let failure {
                    _ = push(.failure(failure))
                    return
                }
            }
        } catch let error as StoreError {
            _ = push(.failure(error))
            return
        } catch {
            _ = push(.failure(.io(path: file, detail: "\(error)")))
            return
        }
    }

    static func isBlank(_ line: [UInt8]) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 }
    }

    /// One line as an event (nil for a blank line), or why it is not one. Pure: batches run it on every core.
    static func prepare(
        _ line: UnsafeBufferPointer<UInt8>, number: Int, file: String, mark: JSONValue, format: ImportFormat, redactor: Redactor
    ) -> Result<AuditEvent?, StoreError> {
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return .success(nil) }
        let record: JSONValue
        do throws(JSONParseError) {
            // Exactly as written: a number a double cannot hold, or a member named twice, would be stored as
            // another value than the file says.
            record = try JSONValue.parse(bytes: line, exactNumbers: true, uniqueNames: true)
        } catch {
            return .failure(.badRecord(file: file, line: number, field: "", message: "not JSON: \(error.message) at column \(error.column)"))
        }
        do throws(AuditEventError) {
            var event = switch format {
            case .ormai:
                try OrmAIRecord.event(record, redactor: redactor)
            default:
                // Secret values anywhere in the record (changes, details, fields of other systems) are stored marked.
                redactor.redact(try AuditEvent(json: record))
            }
            // Marked whatever the record says (`AuditEvent.isImported`): a line cannot pass for a write a
            // guard ran, and approvals and rollbacks trust only those. A mark already there (an export of
            // imported events) is kept, so the same events make the same chain again.
            if event.details["imported"] == nil || event.details["imported"] == .null { event.details["imported"] = mark }
            if let field = event.columnHoldingNUL {
                return .failure(.badRecord(file: file, line: number, field: field,
                                           message: "holds the character U+0000, which a store's columns cannot hold (PostgreSQL's text has no NUL)"))
            }
            return .success(event)
        } catch {
            return .failure(.badRecord(file: file, line: number, field: error.field, message: error.message))
        }
    }
}
