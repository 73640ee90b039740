import Foundation
import RolloutCore
import RolloutStore

/// The deterministic layer and the per-event statistical signals, in one streaming pass over a
/// tenant's events in time order: each rule sees only what came before the event it judges. Texts
/// arrive as ids of its `vocabulary` (compared as integers, named only in messages), keys and effects as
/// digests.
struct RuleEngine {
    var tenant: String
    /// Anomalies are reported from here on; earlier events only teach.
    var reportFrom: Int64
    /// The tenant's first event: rarity needs a learning period after it.
    var firstEventMillis: Int64
    var learningMillis: Int64 = 7 * 86_400_000
    var bucketMillis: Int64 = 300_000

    private(set) var anomalies: [Anomaly] = []
    /// The texts of the events observed: the pass makes them ids, the messages name them.
    var vocabulary = ScoringVocabulary()

    // State, all from the past.
    private var keyEffects = DigestMap<(effect: TextDigest?, seq: Int64, ms: Int64)>()
    private var recentEffects = DigestMap<(key: TextDigest?, seq: Int64, ms: Int64)>()
    private var pendingEffects = DigestMap<(seq: Int64, ms: Int64)>()
    private var rowCounts = CountHistogram()
    private var deleters: Set<Int32> = []
    /// By actor id: executed writes and the first event's time.
    private var actorEvents: [(count: Int, first: Int64)?] = []
    private var pairs = NoveltyCounter<Int64>()
    private var fieldPairs = NoveltyCounter<Int64>()
    /// (tool, shape) sightings: a shape seen twice already counts its fields as seen twice, which is all
    /// Good–Turing needs, so the fields of a repeated shape are not split and counted again.
    private var shapeSightings: [Int64: Int] = [:]
    /// (actor, tool) pairs seen executing.
    private var actorTools: Set<Int64> = []
    /// Each shape's field names, as ids, and how many names its text counts (commas + 1).
    private var shapeFields: [Int32: (fields: [Int32], names: Int)] = [:]
    private var fieldIds: [Substring: Int32] = [:]
    private var fieldNames: [String] = []
    private var executedWrites = 0
    private var executedDeletes = 0
    /// Each (tool id, field name)'s recent numeric values.
    private var numeric: [Int32: [String: BoundedHistory]] = [:]
    private var denyBucket: (actor: Int32, bucket: Int64, refused: Int, total: Int, events: [Int64])?
    private var actorRefusals: [Int32: (refused: Int, total: Int)] = [:]

    init(tenant: String, reportFrom: Date, firstEvent: Date) {
        self.tenant = tenant
        self.reportFrom = Int64(reportFrom.timeIntervalSince1970 * 1000)
        self.firstEventMillis = Int64(firstEvent.timeIntervalSince1970 * 1000)
    }

    static func date(_ ms: Int64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }

    static func pair(_ a: Int32, _ b: Int32) -> Int64 { Int64(a) << 32 | Int64(UInt32(bitPattern: b)) }

    mutating func flag(_ family: Anomaly.Family, _ signal: String, entity: String, ms: Int64, end: Int64? = nil, observed: Double, expected: Double, events: [Int64], _ message: String) {
        guard ms >= reportFrom else { return }
        anomalies.append(Anomaly(tenant: tenant, family: family, signal: signal, entity: entity, start: Self.date(ms), end: Self.date(end ?? ms),
                                 observed: observed, expected: expected, bandLow: 0, bandHigh: expected, score: 1, events: Array(events.prefix(50)), message: message))
    }

    /// Forgets what no rule can need any more (keys older than a day, effects older than ten minutes),
    /// in arrival order: memory stays flat however long the log.
    private mutating func prune(now: Int64) {
        while let (ms, key) = keyOrder.first, ms < now - 86_400_000 {
            keyOrder.removeFirst()
            if keyEffects[key]?.ms == ms { keyEffects[key] = nil }
        }
        while let (ms, effect) = effectOrder.first, ms < now - 600_000 {
            effectOrder.removeFirst()
            if recentEffects[effect]?.ms == ms { recentEffects[effect] = nil }
        }
        while let (ms, effect) = pendingOrder.first, ms < now - 86_400_000 {
            pendingOrder.removeFirst()
            if pendingEffects[effect]?.ms == ms { pendingEffects[effect] = nil }
        }
    }

    private var keyOrder = FIFO<(Int64, TextDigest)>()
    private var effectOrder = FIFO<(Int64, TextDigest)>()
    private var pendingOrder = FIFO<(Int64, TextDigest)>()

    /// The event's own spellings of what messages name, as stored; made text only for a message.
    struct Spellings {
        var actor: UnsafeRawBufferPointer
        var tool: UnsafeRawBufferPointer
        var key: UnsafeRawBufferPointer?
    }

    /// Judges event `e`. `reasonProblem` is what its tool's reason rule says of its reason (asked only of
    /// executed writes); `spellings` are its actor, tool and key as written, for messages.
    mutating func observe(_ e: ScoringEvent, reasonProblem: String?, spellings: Spellings) {
        func keyText() -> String? { spellings.key.map { String(decoding: $0, as: UTF8.self) } }
        prune(now: e.tsMillis)
        let category = e.category
        let executed = category == .executed
        // Named only when a message needs them, as this event writes them.
        var actor: String { String(decoding: spellings.actor, as: UTF8.self) }
        var tool: String { String(decoding: spellings.tool, as: UTF8.self) }

        // Writes without a real reason (agents repeat their reasons: each text is checked once).
        if executed, let problem = reasonProblem {
            flag(.rules, "missing_reason", entity: "actor \(actor)", ms: e.tsMillis, observed: 1, expected: 0, events: [e.seq],
                 "\(tool) by \(actor) executed without a real reason: \(problem)")
        }
        // An idempotency key reused with another payload.
        if e.isIdempotencyConflict {
            flag(.rules, "key_reuse", entity: "actor \(actor)", ms: e.tsMillis, observed: 1, expected: 0, events: [e.seq],
                 "\(actor) reused idempotency key \(keyText() ?? "?") for a different write")
        } else if executed, let key = e.key, let effect = e.effect {
            // Only writes with a known effect can be told apart; the others cannot show a reuse.
            if let seen = keyEffects[key], let seenEffect = seen.effect, seenEffect != effect {
                flag(.rules, "key_reuse", entity: "actor \(actor)", ms: e.tsMillis, observed: 1, expected: 0, events: [seen.seq, e.seq],
                     "idempotency key \(keyText() ?? "?") was used for two different writes (events \(seen.seq) and \(e.seq))")
            }
            keyEffects[key] = (effect, e.seq, e.tsMillis)
            keyOrder.append((e.tsMillis, key))
        }
        // The same write under different keys within ten minutes.
        if executed, let effect = e.effect {
            if let seen = recentEffects[effect], e.tsMillis - seen.ms <= 600_000, seen.key != e.key, !e.hasApprover {
                flag(.rules, "duplicate_write", entity: "tool \(tool)", ms: e.tsMillis, observed: 2, expected: 1, events: [seen.seq, e.seq],
                     "\(tool) made the same change twice within \(Int((e.tsMillis - seen.ms) / 1000))s under different idempotency keys (events \(seen.seq) and \(e.seq))")
            }
            recentEffects[effect] = (e.key, e.seq, e.tsMillis)
            effectOrder.append((e.tsMillis, effect))
        }
        // A write around an approval: the same change executed without an approver while it waits for (or
        // after it was refused by) a person.
        if let effect = e.effect {
            if e.isPendingApproval {
                pendingEffects[effect] = (e.seq, e.tsMillis)
                pendingOrder.append((e.tsMillis, effect))
            } else if executed, let pending = pendingEffects[effect] {
                if !e.hasApprover {
                    flag(.rules, "write_around_approval", entity: "actor \(actor)", ms: e.tsMillis, observed: 1, expected: 0, events: [pending.seq, e.seq],
                         "\(tool) executed without an approver the change that waits for approval since event \(pending.seq)")
                }
                pendingEffects[effect] = nil
            }
        }
        // Deny bursts: many refusals for one actor in one bucket, far above the actor's usual share.
        let bucket = e.tsMillis / bucketMillis
        if let burst = denyBucket, burst.actor != e.actor || burst.bucket != bucket { closeDenyBucket() }
        if denyBucket == nil { denyBucket = (e.actor, bucket, 0, 0, []) }
        denyBucket!.total += 1
        if category == .refused {
            denyBucket!.refused += 1
            if denyBucket!.events.count < 50 { denyBucket!.events.append(e.seq) }
        }
        // Row counts far above the tenant's normal.
        if executed, e.rowCount > 20 {
            if rowCounts.count >= 200, let p99 = rowCounts.quantile(0.99), Double(e.rowCount) > max(20, 3 * p99) {
                flag(.rules, "bulk_rows", entity: "tool \(tool)", ms: e.tsMillis, observed: Double(e.rowCount), expected: p99, events: [e.seq],
                     "\(tool) by \(actor) changed \(e.rowCount) rows; this tenant's 99th percentile is \(Int(p99))")
            }
        }
        if executed { rowCounts.add(e.rowCount) }
        // An actor's first destructive operation, once the actor has a long history without one, in a
        // tenant where deletes are rare.
        let actorIndex = Int(e.actor)
        if actorIndex >= actorEvents.count { actorEvents.append(contentsOf: repeatElement(nil, count: actorIndex - actorEvents.count + 1)) }
        let history = actorEvents[actorIndex] ?? (0, e.tsMillis)
        if executed, e.isDelete, !deleters.contains(e.actor) {
            let deleteShare = Double(executedDeletes) / Double(max(executedWrites, 1))
            if history.count >= 200, e.tsMillis - history.first >= learningMillis, deleteShare < 0.01 {
                flag(.rules, "first_destructive", entity: "actor \(actor)", ms: e.tsMillis, observed: 1, expected: 0, events: [e.seq],
                     "\(actor) deleted for the first time (\(tool)) after \(history.count) writes without one; deletes are \(String(format: "%.2f", deleteShare * 100))% of this tenant's writes")
            }
            deleters.insert(e.actor)
        }
        if executed {
            actorEvents[actorIndex] = (history.count + 1, history.first)
            executedWrites += 1
            if e.isDelete { executedDeletes += 1 }
        }
        // Rarity: an (actor, tool) or (tool, field) pair first seen after the learning period.
        let learned = e.tsMillis - firstEventMillis >= learningMillis
        if executed {
            let pair = Self.pair(e.actor, e.tool)
            let newPair = actorTools.insert(pair).inserted
            if let chance = newPair ? pairs.observe(pair) : pairs.observeRepeat(pair), learned, chance < NoveltyCounter<Int64>.surprising {
                flag(.rarity, "rare_pair", entity: "actor \(actor)", ms: e.tsMillis, observed: 1, expected: chance, events: [e.seq],
                     "\(actor) used \(tool) for the first time; a new (actor, tool) pair had a \(String(format: "%.2f", chance * 100))% chance here")
            }
            var sightings = 2
            if e.shape >= 0 {
                let toolShape = Self.pair(e.tool, e.shape)
                sightings = shapeSightings[toolShape, default: 0]
                shapeSightings[toolShape] = sightings + 1
            }
            let fields = e.shape >= 0 ? self.fields(ofShape: e.shape) : (fields: [], names: 1)
            if sightings >= 2 { fieldPairs.observeMany(fields.names) }
            for name in sightings < 2 ? fields.fields : [] {
                if let chance = fieldPairs.observe(Self.pair(e.tool, name)), learned, chance < NoveltyCounter<Int64>.surprising {
                    flag(.rarity, "rare_pair", entity: "tool \(tool)", ms: e.tsMillis, observed: 1, expected: chance, events: [e.seq],
                         "\(tool) changed \(fieldNames[Int(name)]) for the first time; a new (tool, field) pair had a \(String(format: "%.2f", chance * 100))% chance here")
                }
            }
            if case .object(let fields)? = e.fields {
                for (name, change) in fields {
                    // Values far outside the field's past (refund amounts and the like).
                    guard case .number(let value)? = change["after"], value.isFinite else { continue }
                    if let past = numeric[e.tool]?[name], past.count >= 30, let median = past.quantile(0.5) {
                        let transformed = log1p(abs(value)), center = log1p(abs(median))
                        let z = (transformed - center) / max(1.4826 * past.logMAD, 0.05)
                        if z >= 6, abs(value) >= 3 * max(abs(median), 1) {
                            flag(.values, "value_outlier", entity: "tool \(tool)", ms: e.tsMillis, observed: value, expected: median, events: [e.seq],
                                 "\(tool) set \(name) to \(JSONValue.formatNumber(value)); its past median is \(JSONValue.formatNumber(median)) (robust z \(Int(z)))")
                        }
                    }
                    // In place: a copy taken out and put back copied the history's 500 values every time.
                    numeric[e.tool, default: [:]][name, default: BoundedHistory(capacity: 500)].add(value)
                }
            }
        }
    }

    /// The field names of a shape (its text split at commas, empty names dropped), as ids, and how many
    /// names its text counts: worked out once per shape.
    private mutating func fields(ofShape shape: Int32) -> (fields: [Int32], names: Int) {
        if let known = shapeFields[shape] { return known }
        let text = vocabulary.name(shape)
        let ids = text.split(separator: ",").map { name in
            if let id = fieldIds[name] { return id }
            let id = Int32(fieldNames.count)
            fieldIds[name] = id
            fieldNames.append(String(name))
            return id
        }
        let fields = (fields: ids, names: text.utf8.filter { $0 == 44 }.count + 1)
        shapeFields[shape] = fields
        return fields
    }

    private mutating func closeDenyBucket() {
        guard let burst = denyBucket else { return }
        denyBucket = nil
        let past = actorRefusals[burst.actor] ?? (0, 0)
        let usual = past.total >= 100 ? Double(past.refused) / Double(past.total) : 0.1
        let share = Double(burst.refused) / Double(max(burst.total, 1))
        if burst.refused >= 5, share >= max(3 * usual, 0.3) {
            let ms = burst.bucket * bucketMillis
            let actor = vocabulary.name(burst.actor)
            flag(.rules, "deny_burst", entity: "actor \(actor)", ms: ms, end: ms + bucketMillis, observed: Double(burst.refused),
                 expected: usual * Double(burst.total), events: burst.events,
                 "\(actor) was refused \(burst.refused) times in 5 minutes (\(Int(share * 100))% of its calls; usually \(Int(usual * 100))%)")
        }
        actorRefusals[burst.actor] = (past.refused + burst.refused, past.total + burst.total)
    }

    mutating func finish() {
        closeDenyBucket()
    }
}

/// How surprising something new is, by Good–Turing: the chance that the next observation is a pair
/// never seen before is about the share of observations that were pairs seen exactly once. In sparse
/// data new pairs are common and not worth an alarm; in a settled tenant they are.
struct NoveltyCounter<Key: Hashable> {
    static var surprising: Double { 0.002 }
    private var counts: [Key: Int] = [:]
    private var once = 0
    private var total = 0

    /// Counts an observation of a key known to have been seen at least twice.
    mutating func observeMany(_ n: Int) {
        total += n
    }

    /// Counts `key`, known not to be new; returns nil.
    mutating func observeRepeat(_ key: Key) -> Double? {
        total += 1
        if let count = counts[key], count < 2 {
            counts[key] = count + 1
            once -= 1
        }
        return nil
    }

    /// Counts `key`; when it is new, returns the chance a new key had (nil for keys seen before).
    mutating func observe(_ key: Key) -> Double? {
        total += 1
        let count = counts[key, default: 0]
        counts[key] = count + 1
        if count == 1 { once -= 1 }
        if count == 0 {
            let chance = total >= 500 ? Double(once + 1) / Double(total) : 1
            once += 1
            return chance
        }
        return nil
    }
}

/// A first-in first-out queue with amortised O(1) removal from the front.
struct FIFO<Element> {
    private var items: [Element] = []
    private var head = 0

    var first: Element? { head < items.count ? items[head] : nil }

    mutating func append(_ item: Element) { items.append(item) }

    mutating func removeFirst() {
        head += 1
        if head > 4_096 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
    }
}

/// A histogram of small non-negative integers (row counts) for quantiles in constant time per event.
struct CountHistogram {
    private var bins = [Int](repeating: 0, count: 1_025)
    private(set) var count = 0

    mutating func add(_ value: Int) {
        bins[min(max(value, 0), 1_024)] += 1
        count += 1
    }

    func quantile(_ q: Double) -> Double? {
        guard count > 0 else { return nil }
        let target = Int(Double(count - 1) * q)
        var seen = 0
        for (value, n) in bins.enumerated() {
            seen += n
            if seen > target { return Double(value) }
        }
        return 1_024
    }
}

/// The last `capacity` values of a series, for quantiles. The sorted copy is refreshed every
/// `refreshEvery` additions: the rules ask on every event, and the answer moves slowly.
struct BoundedHistory {
    let capacity: Int
    var refreshEvery = 32
    private var values: [Double] = []
    private var next = 0
    private var sorted: [Double] = []
    private var added = 0

    init(capacity: Int) {
        self.capacity = capacity
    }

    var count: Int { values.count }

    mutating func add(_ value: Double) {
        if values.count < capacity {
            values.append(value)
        } else {
            values[next] = value
            next = (next + 1) % capacity
        }
        added += 1
        if sorted.isEmpty || added % refreshEvery == 0 || values.count < refreshEvery {
            sorted = values.sorted()
            let center = log1p(abs(sorted[sorted.count / 2]))
            var deviations = sorted.map { abs(log1p(abs($0)) - center) }
            deviations.sort()
            logMAD = deviations[deviations.count / 2]
        }
    }

    /// Median absolute deviation of log1p(|value|) around the log1p of the median, as of the last refresh.
    private(set) var logMAD = 0.0

    func quantile(_ q: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * q))]
    }
}
