import Foundation
import RolloutCore

/// Guard state and rows held in memory: for tests, benchmarks and a host that keeps its own log.
/// Decisions are serialised by a lock. It is not transactional: nothing is undone when a body
/// throws, which is safe because the pipeline writes only after every check has passed and an
/// in-memory write cannot fail halfway.
public final class InMemoryEnvironment: GuardEnvironment, @unchecked Sendable {
    private let lock = NSLock()
    private let session: Session
    public let redactor: Redactor

    public init(redactor: Redactor = Redactor()) {
        session = Session()
        self.redactor = redactor
    }

    private init(session: Session, redactor: Redactor) {
        self.session = session
        self.redactor = redactor
    }

    /// An independent copy of everything: rows, ledgers, events. Cheap (the collections are copied on
    /// write), so a fuzz run can restore a seeded state before every attack.
    public func copy() -> InMemoryEnvironment {
        lock.lock()
        defer { lock.unlock() }
        let copy = Session()
        copy.take(session)
        return InMemoryEnvironment(session: copy, redactor: redactor)
    }

    /// Puts back everything `other` holds (rows, ledgers, events), in place: a guard built over this
    /// environment then decides from `other`'s state, as a guard built over `other.copy()` would.
    public func restore(from other: InMemoryEnvironment) {
        precondition(other !== self, "an environment restored from itself")
        other.lock.lock()
        defer { other.lock.unlock() }
        lock.lock()
        defer { lock.unlock() }
        session.take(other.session)
    }

    public func transaction<T>(_ body: (any GuardSession) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(session)
    }

    /// Adds a row to `model`'s table (for seeding); returns its key.
    @discardableResult
    public func seed(model: ModelPolicy, values: [String: JSONValue]) throws -> JSONValue {
        try transaction { try $0.rows!.insert(model: model, values: values) }
    }

    /// Seeds every model with `rowsPerTenant` valid rows per tenant.
    public func seed(policy: Policy, tenants: [String], rowsPerTenant: Int = 8) throws {
        for model in policy.models {
            for row in DemoDomain.seedRows(model: model, tenants: tenants, rowsPerTenant: rowsPerTenant) {
                try seed(model: model, values: row)
            }
        }
    }

    /// The audit events so far, oldest first.
    public var events: [AuditEvent] {
        lock.lock()
        defer { lock.unlock() }
        return session.events
    }

    /// A copy of a model's rows by key, for tests comparing state.
    public func table(_ model: String) -> [JSONValue: [String: JSONValue]] {
        lock.lock()
        defer { lock.unlock() }
        return session.tables[model] ?? [:]
    }

    final class Session: GuardSession, GuardLedger, RowStore {
        var tables: [String: [JSONValue: [String: JSONValue]]] = [:]
        var nextKey: [String: Int] = [:]
        var idempotencyEntries: [String: IdempotencyEntry] = [:]
        /// Call times per "tenant\u{0}tool" and "tenant\u{0}tool\u{0}actor", oldest first.
        var calls: [String: [Date]] = [:]
        var dryRuns: [String: Date] = [:]
        var approvals: [Int64: PendingApproval] = [:]
        var rollbacks: [Int64: Int64] = [:]
        var events: [AuditEvent] = []
        var stash: [Int64: JSONValue] = [:]

        var ledger: any GuardLedger { self }

        /// Holds what `other` holds (the collections are copied on write).
        func take(_ other: Session) {
            tables = other.tables
            nextKey = other.nextKey
            idempotencyEntries = other.idempotencyEntries
            calls = other.calls
            dryRuns = other.dryRuns
            approvals = other.approvals
            rollbacks = other.rollbacks
            events = other.events
            stash = other.stash
        }
        var rows: (any RowStore)? { self }

        func idempotency(tenant: String, key: String) throws -> IdempotencyEntry? { idempotencyEntries[tenant + "\u{0}" + key] }
        func saveIdempotency(_ entry: IdempotencyEntry) throws { idempotencyEntries[entry.tenant + "\u{0}" + entry.key] = entry }
        func releaseIdempotency(tenant: String, key: String) throws { idempotencyEntries[tenant + "\u{0}" + key] = nil }

        func callCount(tenant: String, tool: String, actor: String?, since: Date, upTo limit: Int) throws -> Int {
            let key = actor.map { tenant + "\u{0}" + tool + "\u{0}" + $0 } ?? tenant + "\u{0}" + tool
            guard let times = calls[key] else { return 0 }
            return min(times.count - Self.firstIndex(in: times, atOrAfter: since), max(limit, 0))
        }

        /// Every call time is kept: dropping the oldest (this ledger once kept 200,000 per key, then
        /// 100,000) under-counted any cap above what was left, letting calls past it through.
        func recordCall(tenant: String, tool: String, actor: String, at: Date, auditSeq: Int64) throws {
            for key in [tenant + "\u{0}" + tool, tenant + "\u{0}" + tool + "\u{0}" + actor] {
                Self.insert(at, into: &calls[key, default: []])  // in place: a copy per call would make caps quadratic
            }
        }

        /// Adds a time to a sorted list: appended when it is the latest (one clock), else put in its place.
        static func insert(_ time: Date, into times: inout [Date]) {
            if let last = times.last, last > time {
                times.insert(time, at: firstIndex(in: times, atOrAfter: time))
            } else {
                times.append(time)
            }
        }

        /// The index of the first time at or after `since` in a sorted list (binary search).
        static func firstIndex(in times: [Date], atOrAfter since: Date) -> Int {
            var low = 0, high = times.count
            while low < high {
                let mid = (low + high) / 2
                if times[mid] < since { low = mid + 1 } else { high = mid }
            }
            return low
        }

        func hasDryRun(tenant: String, tool: String, binding: String, since: Date) throws -> Bool {
            guard let at = dryRuns[tenant + "\u{0}" + tool + "\u{0}" + binding] else { return false }
            return at >= since
        }

        func recordDryRun(tenant: String, tool: String, binding: String, at: Date, auditSeq: Int64) throws {
            dryRuns[tenant + "\u{0}" + tool + "\u{0}" + binding] = at
        }

        func enqueue(_ approval: PendingApproval) throws -> Int64 {
            var stored = approval
            stored.id = Int64(approvals.count + 1)
            approvals[stored.id] = stored
            return stored.id
        }

        func approval(id: Int64) throws -> PendingApproval? { approvals[id] }
        func updateApproval(_ approval: PendingApproval) throws { approvals[approval.id] = approval }
        func rollback(of seq: Int64) throws -> Int64? { rollbacks[seq] }
        func checkedEvents(after seq: Int64, _ pick: EventPick, resuming earlier: CheckedEvents?) throws -> CheckedEvents {
            CheckedEvents(after: seq, pick: pick, events: events.filter { $0.seq > seq && pick.picks($0) })
        }
        func recordRollback(of seq: Int64, by rollbackSeq: Int64) throws { rollbacks[seq] = rollbackSeq }
        func settleRollback(of seq: Int64, by rollbackSeq: Int64) throws { rollbacks[seq] = rollbackSeq }
        func releaseRollback(of seq: Int64) throws { rollbacks[seq] = nil }

        func stashSecrets(seq: Int64, values: JSONValue) throws { stash[seq] = values }
        func stashedSecrets(seq: Int64) throws -> JSONValue? { stash[seq] }

        func append(_ event: AuditEvent) throws -> AuditEvent {
            var stored = event
            stored.seq = Int64(events.count + 1)
            events.append(stored)
            return stored
        }

        func event(seq: Int64) throws -> AuditEvent? {
            seq >= 1 && seq <= events.count ? events[Int(seq - 1)] : nil
        }

        /// The events in memory are the log itself: none can be edited outside the guard.
        func heldEvent(seq: Int64) throws -> AuditEvent? { try event(seq: seq) }

        func keyWrittenAfter(_ seq: Int64, tenant: String, key: String) throws -> Bool {
            guard seq >= 0, Int(seq) < events.count else { return false }
            return events[Int(seq)...].contains { $0.tenant.hasSameBytes(as: tenant) && $0.idempotencyKey?.hasSameBytes(as: key) == true && IdempotencyChain.writesUnderKey($0) }
        }

        func rows(model: ModelPolicy, keys: [JSONValue]) throws -> [[String: JSONValue]?] {
            let table = tables[model.name]
            return keys.map { table?[Self.normalize($0)] }
        }

        func insert(model: ModelPolicy, values: [String: JSONValue]) throws -> JSONValue {
            var row = values
            let key: JSONValue
            if let given = values[model.key], !given.isNull {
                key = Self.normalize(given)
                if let n = key.intValue { nextKey[model.name] = max(nextKey[model.name] ?? 1, n + 1) }
            } else {
                let n = nextKey[model.name] ?? 1
                nextKey[model.name] = n + 1
                key = .number(Double(n))
            }
            row[model.key] = key
            if tables[model.name]?[key] != nil { throw BackendError("\(model.name) \(key.canonicalText) already exists") }
            tables[model.name, default: [:]][key] = row
            return key
        }

        func update(model: ModelPolicy, key: JSONValue, values: [String: JSONValue]) throws {
            let k = Self.normalize(key)
            guard var row = tables[model.name]?[k] else { throw BackendError("\(model.name) \(key.canonicalText) does not exist") }
            for (name, value) in values { row[name] = value }
            tables[model.name]![k] = row
        }

        func delete(model: ModelPolicy, key: JSONValue) throws {
            tables[model.name]?[Self.normalize(key)] = nil
        }

        /// "7" and 7 name the same row, as they do in SQLite's integer keys.
        static func normalize(_ key: JSONValue) -> JSONValue {
            if case .string(let s) = key, let n = Int(s) { return .number(Double(n)) }
            return key
        }
    }
}
