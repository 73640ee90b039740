import Foundation
import RolloutCore

/// A run of one tenant's events as the anomaly scorer reads them, oldest first: the numbers, and the
/// text of nine columns copied as stored into one buffer (no string made per value). A reading thread
/// fills chunks while the scoring thread judges the ones before; the scorer makes a string of each
/// distinct text once.
public struct ScoringChunk: Sendable {
    /// The text columns the scorer reads.
    public enum Text: Int, CaseIterable, Sendable {
        case actor, tool, operation, decision, approver, idempotencyKey, reason, effect, shape
    }

    public private(set) var seqs: [Int64] = []
    public private(set) var times: [Int64] = []
    public private(set) var rowCounts: [Int] = []
    /// Per event, its tenant's place in the list a scan of several tenants was given (empty when the scan
    /// read one tenant).
    public private(set) var tenants: [Int32] = []
    /// The text columns' bytes, one after the other.
    public private(set) var bytes: [UInt8] = []
    /// Per event and text column (in `Text` order), where its bytes start in `bytes` and how many there
    /// are; a length of -1 is a null column.
    @usableFromInline internal private(set) var spans: [Int] = []
    /// Where in `bytes` the `fields_changed` text is (as `json_extract` gives it) of each event whose
    /// value fields were asked for, by index in the chunk: the scoring thread parses it.
    public private(set) var fieldsTexts: [Int: Range<Int>] = [:]

    /// A chunk is handed over at this many events, or sooner once its texts pass `byteLimit`.
    static let byteLimit = 16 << 20

    public var count: Int { seqs.count }

    init(capacity: Int) {
        seqs.reserveCapacity(capacity)
        times.reserveCapacity(capacity)
        rowCounts.reserveCapacity(capacity)
        spans.reserveCapacity(capacity * Text.allCases.count * 2)
        bytes.reserveCapacity(capacity * 160)
    }

    /// Where column `text` of event `index` is in `bytes`, or nil when it is null.
    /// (Inlined into the scorer, which asks ten times an event.)
    @inlinable
    public func span(_ text: Text, _ index: Int) -> Range<Int>? {
        let at = (index * Text.allCases.count + text.rawValue) * 2
        let length = spans[at + 1]
        guard length >= 0 else { return nil }
        let start = spans[at]
        return start..<(start + length)
    }

    /// Adds the row of `AuditStore.scoringSelect` unless it is an event of rollout's own control plane;
    /// its `fields_changed` only when `valueFields` wants them. On SQLite the last column is the body,
    /// whose `fields_changed` text is read as `json_extract` gives it (`JSONMembers` and `JSONExtract`,
    /// or SQLite itself through `extract` for a body the member index declines); elsewhere the column is
    /// that text already.
    mutating func append(_ row: some ChainRowValues, valueFields: inout ValueFieldFilter, bodyColumn: Bool,
                         extract: (Int64) throws -> String?) throws {
        // The texts first (the tool among them, read once), then rollout's own events are taken back out.
        let marks = (bytes: bytes.count, spans: spans.count)
        for column in 0..<Text.allCases.count {
            row.withOptionalText(3 + column) { text in
                spans.append(bytes.count)
                spans.append(text.map { $0.count } ?? -1)
                if let text { bytes.append(contentsOf: text) }
            }
        }
        func text(_ column: Text) -> ArraySlice<UInt8> {
            let start = spans[marks.spans + 2 * column.rawValue], length = spans[marks.spans + 2 * column.rawValue + 1]
            return length < 0 ? [] : bytes[start..<(start + length)]
        }
        if ComplianceScope.isControl(tool: text(.tool), decision: text(.decision)) {
            bytes.removeSubrange(marks.bytes...)
            spans.removeSubrange(marks.spans...)
            return
        }
        let seq = row.int(0)
        seqs.append(seq)
        times.append(row.int(1))
        rowCounts.append(Int(row.int(2)))
        let event = seqs.count - 1
        let wanted = bytes.withUnsafeBytes { all in
            func text(_ column: Text) -> UnsafeRawBufferPointer? { span(column, event).map { UnsafeRawBufferPointer(rebasing: all[$0]) } }
            return valueFields.wants(decision: text(.decision), shape: text(.shape))
        }
        guard wanted else { return }
        let fields: String?
        if bodyColumn {
            fields = try row.withOptionalText(12) { body in
                guard let body else { return nil }
                guard let members = JSONMembers(body) else { return try extract(seq) }
                return members.raw(.fieldsChanged).flatMap(JSONExtract.value)
            }
        } else {
            fields = row.optionalString(12)
        }
        if var fields {
            fields.withUTF8 { text in
                fieldsTexts[event] = bytes.count..<(bytes.count + text.count)
                bytes.append(contentsOf: text)
            }
        }
    }
}

extension ScoringChunk {
    /// Notes the tenant of the event just appended (a scan of several tenants).
    mutating func markTenant(_ tenant: Int32) {
        tenants.append(tenant)
    }

    /// Puts the events of `range`, which share one time, in the order a scan of each tenant alone gives
    /// them (its index orders ties by tool, then actor, then sequence, comparing bytes), tenant by tenant.
    mutating func orderTies(_ range: Range<Int>) {
        guard range.count > 1 else { return }
        let order = bytes.withUnsafeBytes { all -> [Int] in
            func text(_ column: Text, _ event: Int) -> UnsafeRawBufferPointer {
                span(column, event).map { UnsafeRawBufferPointer(rebasing: all[$0]) } ?? UnsafeRawBufferPointer(start: nil, count: 0)
            }
            func less(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool? {
                guard !a.elementsEqual(b) else { return nil }
                return a.lexicographicallyPrecedes(b)
            }
            return range.sorted { x, y in
                if !tenants.isEmpty, tenants[x] != tenants[y] { return tenants[x] < tenants[y] }
                if let byTool = less(text(.tool, x), text(.tool, y)) { return byTool }
                if let byActor = less(text(.actor, x), text(.actor, y)) { return byActor }
                return seqs[x] < seqs[y]
            }
        }
        guard order != Array(range) else { return }
        // The group's own values, copied out (not the whole chunk's: a chunk may hold many groups).
        let width = Text.allCases.count * 2
        let first = range.lowerBound
        let oldSeqs = Array(seqs[range]), oldTimes = Array(times[range]), oldRows = Array(rowCounts[range])
        let oldTenants = tenants.isEmpty ? [] : Array(tenants[range])
        let oldSpans = Array(spans[(first * width)..<(range.upperBound * width)])
        let oldFields = range.map { fieldsTexts[$0] }
        for (offset, from) in order.enumerated() {
            let (to, at) = (first + offset, from - first)
            seqs[to] = oldSeqs[at]
            times[to] = oldTimes[at]
            rowCounts[to] = oldRows[at]
            if !tenants.isEmpty { tenants[to] = oldTenants[at] }
            for k in 0..<width { spans[to * width + k] = oldSpans[at * width + k] }
            fieldsTexts[to] = oldFields[at]
        }
    }

    /// Event `index`'s `fields_changed`, parsed from its text as the scorer always has (nil when its
    /// values were not asked for, or the text is not JSON).
    public func fieldsChanged(_ index: Int) -> JSONValue? {
        guard let range = fieldsTexts[index] else { return nil }
        return bytes.withUnsafeBufferPointer { try? JSONValue.parse(bytes: UnsafeBufferPointer(rebasing: $0[range])) }
    }
}

/// A `ts_ms` as stored, compared as SQLite compares numbers (an integer and a real by value); nil for
/// anything else, which ties with nothing.
struct StoredTime: Equatable {
    let value: SQLValue

    init?(_ value: SQLValue) {
        switch value {
        case .int, .double: self.value = value
        default: return nil
        }
    }

    static func == (a: StoredTime, b: StoredTime) -> Bool {
        switch (a.value, b.value) {
        case (.int(let x), .int(let y)): x == y
        case (.double(let x), .double(let y)): x == y
        case (.int(let x), .double(let y)), (.double(let y), .int(let x)): Double(x) == y && Int64(exactly: y) == x
        default: false
        }
    }
}

extension AuditStore {
    /// The columns `ScoringChunk.append` reads, in its order. The last is, on SQLite, the body (SQLite
    /// hands out a column in its page without copying; `fields_changed` is read from it by rollout's
    /// member index where `ValueFieldFilter` wants it, which costs a fraction of `json_extract`); on
    /// PostgreSQL `fields_changed` of executed writes whose shape contains a value field, as the server
    /// extracts it (the value fields' `?`s come first).
    static func scoringSelect(_ dialect: SQLDialect, valueFields: Int, allTenants: Bool = false, guardedOnly: Bool = false) -> (sql: String, arguments: Int) {
        let last: String
        switch dialect {
        case .sqlite: last = "body"
        case .postgres:
            let wanted = valueFields == 0 ? "1 = 0" : (0..<valueFields).map { _ in dialect.contains("shape") }.joined(separator: " OR ")
            last = "CASE WHEN decision IN (\(ValueFieldFilter.decisions.map { "'\($0)'" }.joined(separator: ", "))) AND (\(wanted)) "
                + "THEN \(dialect.jsonMember("body", "fields_changed")) END"
        }
        let columns = "seq, ts_ms, row_count, actor, tool, operation, decision, approver, idempotency_key, reason, effect, shape, \(last)"
        // Several tenants: the time index, ties put in each tenant's order by the reader; the tenant last.
        let guarded = guardedOnly ? " AND " + recordedByGuard(dialect) : ""
        if allTenants {
            return ("SELECT \(columns), tenant FROM audit_events WHERE ts_ms >= ? AND ts_ms < ?\(guarded) ORDER BY ts_ms", dialect == .postgres ? valueFields : 0)
        }
        return ("SELECT \(columns) FROM audit_events WHERE tenant = ? AND ts_ms >= ? AND ts_ms < ?\(guarded) ORDER BY ts_ms", dialect == .postgres ? valueFields : 0)
    }

    /// The events of several tenants in the window but rollout's own, in one pass in time order (each
    /// page of an interleaved store read once, where a pass per tenant reads every page again), in
    /// chunks whose `tenants` give each event's place in `tenants`. Each tenant's events come in the
    /// order `scanScoring(tenant:)` gives them, ties included; a chunk ends only between two times.
    /// Events of other tenants are skipped. Tenants are told apart by their bytes, as SQL's `=` does.
    public func scanScoring(tenants: [String], from: Date, to: Date, valueFields: [String] = [], chunkSize: Int = 4_096, guardedOnly: Bool = false,
                            _ body: (ScoringChunk) throws -> Bool) throws {
        struct Stop: Error {}
        let names = tenants.map { Array($0.utf8) }
        do {
            try read { sql in
                let (query, valueArguments) = Self.scoringSelect(sql.dialect, valueFields: valueFields.count, allTenants: true, guardedOnly: guardedOnly)
                let arguments: [SQLValue] = valueFields.prefix(valueArguments).map(SQLValue.text) + [.int(Self.millis(from)), .int(Self.millis(to))]
                var filter = ValueFieldFilter(words: valueFields)
                var chunk = ScoringChunk(capacity: chunkSize)
                let bodyColumn = sql.dialect == .sqlite
                func extract(_ seq: Int64) throws -> String? {
                    try sql.queryOne("SELECT json_extract(body, '$.fields_changed') FROM audit_events WHERE seq = ?", [.int(seq)])?.optionalString(0)
                }
                var last: Int32 = 0
                /// The first event of the chunk's last time, and that time as stored: ties are put in order
                /// once the time moves on.
                var tiesFrom = 0
                var tiesAt: StoredTime?
                func closeTies() {
                    chunk.orderTies(tiesFrom..<chunk.count)
                    tiesFrom = chunk.count
                }
                func add(_ row: some ChainRowValues) throws {
                    // A tenant is text equal in bytes, as `tenant = ?` finds it (not a blob of the same bytes).
                    guard row.isText(13) else { return }
                    let tenant: Int32? = row.withOptionalText(13) { text in
                        guard let text else { return nil }
                        if names[Int(last)].elementsEqual(text) { return last }
                        return names.firstIndex { $0.elementsEqual(text) }.map(Int32.init)
                    }
                    guard let tenant else { return }
                    last = tenant
                    // Ties are times equal as SQLite compares them (a real written by hand is not its integer part).
                    let time = StoredTime(row[1])
                    if chunk.count > tiesFrom, time == nil || time != tiesAt {
                        closeTies()
                        if chunk.count >= chunkSize || chunk.bytes.count >= ScoringChunk.byteLimit {
                            guard try body(chunk) else { throw Stop() }
                            chunk = ScoringChunk(capacity: chunkSize)
                            tiesFrom = 0
                        }
                    }
                    let before = chunk.count
                    try chunk.append(row, valueFields: &filter, bodyColumn: bodyColumn, extract: extract)
                    if chunk.count > before {
                        chunk.markTenant(tenant)
                        tiesAt = time
                    }
                }
                guard !names.isEmpty else { return }
                if let sqlite = sql as? SQLiteConnection {
                    try sqlite.eachView(query, arguments) { try add($0) }
                } else {
                    try sql.each(query, arguments) { try add($0) }
                }
                closeTies()
                if chunk.count > 0 { _ = try body(chunk) }
            }
        } catch is Stop {}
    }

    /// Every event of a tenant in the window but rollout's own (`rollout.` tools), oldest first, in
    /// chunks of `chunkSize` events handed to `body` as each fills; memory stays flat. The body is read
    /// only for executed writes whose shape contains one of `valueFields` (substrings of field names).
    /// Time order, ties in index order (the index gives the order: no sort). On SQLite each row is read
    /// in place. Stops early, without error, when `body` returns false.
    /// `guardedOnly`: only the events guards recorded (`recordedByGuard`), none imported.
    public func scanScoring(tenant: String, from: Date, to: Date, valueFields: [String] = [], chunkSize: Int = 4_096, guardedOnly: Bool = false,
                            _ body: (ScoringChunk) throws -> Bool) throws {
        struct Stop: Error {}
        do {
            try read { sql in
                let (query, valueArguments) = Self.scoringSelect(sql.dialect, valueFields: valueFields.count, guardedOnly: guardedOnly)
                let arguments: [SQLValue] = valueFields.prefix(valueArguments).map(SQLValue.text)
                    + [.text(tenant), .int(Self.millis(from)), .int(Self.millis(to))]
                var filter = ValueFieldFilter(words: valueFields)
                var chunk = ScoringChunk(capacity: chunkSize)
                let bodyColumn = sql.dialect == .sqlite
                func extract(_ seq: Int64) throws -> String? {
                    try sql.queryOne("SELECT json_extract(body, '$.fields_changed') FROM audit_events WHERE seq = ?", [.int(seq)])?.optionalString(0)
                }
                func add(_ row: some ChainRowValues) throws {
                    try chunk.append(row, valueFields: &filter, bodyColumn: bodyColumn, extract: extract)
                    guard chunk.count >= chunkSize || chunk.bytes.count >= ScoringChunk.byteLimit else { return }
                    guard try body(chunk) else { throw Stop() }
                    chunk = ScoringChunk(capacity: chunkSize)
                }
                if let sqlite = sql as? SQLiteConnection {
                    try sqlite.eachView(query, arguments) { try add($0) }
                } else {
                    try sql.each(query, arguments) { try add($0) }
                }
                if chunk.count > 0 { _ = try body(chunk) }
            }
        } catch is Stop {}
    }
}
