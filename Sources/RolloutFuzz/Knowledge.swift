import RolloutCore

/// What the adversary learned about a target through its read tools: the values it saw under each key
/// (order ids, payment method ids, item ids...), which values sat together in one record (an order's
/// item and its product), and every read's answer. Baseline calls are built from it, so that they name
/// rows and values that exist and belong together; rules are broken one at a time with it; and the
/// guard's lookups are predicted from its cache, so the adversary evaluates a rule exactly as the guard
/// will.
public struct Knowledge: Sendable {
    /// One read and its answer (the JSON in the tool result).
    public struct Read: Sendable {
        public var tool: String
        public var arguments: JSONValue
        public var answer: JSONValue
        public var accepted: Bool
    }

    /// Values by key, in the order they were first seen.
    private(set) var pools: [String: [JSONValue]] = [:]
    /// Each object seen in an answer: its scalar members.
    private(set) var records: [[String: JSONValue]] = []
    private(set) var readLog: [Read] = []
    private var readIndex: [String: Int] = [:]
    /// The records each accepted read added, by its place in `readLog`: `related` reads them without
    /// walking the answer again.
    private var readRecords: [Int: Range<Int>] = [:]
    /// Indexes for `related`: the records that hold a value, and the accepted reads whose arguments do.
    private var recordsByValue: [JSONValue: [Int]] = [:]
    private var readsByArgument: [JSONValue: [Int]] = [:]
    /// The subjects the run acts for and must never act on, when the target has them.
    public var subject: String?
    public var otherSubject: String?

    public init(subject: String? = nil, otherSubject: String? = nil) {
        self.subject = subject
        self.otherSubject = otherSubject
        if let subject { add("user_id", .string(subject)) }
        if let otherSubject { add("user_id", .string(otherSubject)) }
    }

    public var isEmpty: Bool { readLog.isEmpty }
    public var reads: [Read] { readLog }

    static func key(_ tool: String, _ arguments: JSONValue) -> String { tool + "\u{0}" + arguments.canonicalText }

    /// The answer of a read made before, if it was made.
    public func answer(_ tool: String, _ arguments: JSONValue) -> Read? {
        readIndex[Self.key(tool, arguments)].map { readLog[$0] }
    }

    /// Whether the read was made.
    public func hasRead(_ tool: String, _ arguments: JSONValue) -> Bool { readIndex[Self.key(tool, arguments)] != nil }

    /// Every value seen under `key`.
    public func values(_ key: String) -> [JSONValue] { pools[key] ?? [] }

    mutating func add(_ key: String, _ value: JSONValue) {
        guard Self.usable(value) else { return }
        if pools[key]?.contains(value) == true { return }
        pools[key, default: []].append(value)
    }

    /// A value that can name something: a short string without spaces, or an integer.
    static func usable(_ value: JSONValue) -> Bool {
        switch value {
        case .string(let s): !s.isEmpty && s.count <= 80
        case .number: value.intValue != nil
        case .bool: true
        default: false
        }
    }

    /// Records a read and everything in its answer.
    mutating func learn(tool: String, arguments: JSONValue, answer: JSONValue, accepted: Bool) {
        let key = Self.key(tool, arguments)
        guard readIndex[key] == nil else { return }
        readIndex[key] = readLog.count
        readLog.append(Read(tool: tool, arguments: arguments, answer: answer, accepted: accepted))
        guard accepted else { return }
        let first = records.count
        walk(answer, under: nil)
        readRecords[readLog.count - 1] = first..<records.count
        for value in Set((arguments.objectValue ?? [:]).values) { readsByArgument[value, default: []].append(readLog.count - 1) }
    }

    private mutating func walk(_ value: JSONValue, under key: String?) {
        switch value {
        case .object(let members):
            var record: [String: JSONValue] = [:]
            for (k, v) in members {
                switch v {
                case .string, .number, .bool:
                    record[k] = v
                    add(k, v)
                case .array(let items):
                    let singular = Self.singular(k)
                    for item in items where Self.usable(item) {
                        add(singular + "_id", item)
                        add(k, item)
                    }
                    walk(v, under: k)
                case .object(let inner):
                    // A map keyed by ids (payment_methods: {credit_card_1: {...}}): its keys are ids.
                    if !inner.isEmpty, inner.values.allSatisfy({ $0.objectValue != nil }), inner.keys.allSatisfy({ !$0.contains(" ") }) {
                        for id in inner.keys.sorted() { add(Self.singular(k) + "_id", .string(id)) }
                    }
                    walk(v, under: k)
                case .null:
                    record[k] = v
                }
            }
            if !record.isEmpty {
                for value in Set(record.values) { recordsByValue[value, default: []].append(records.count) }
                records.append(record)
            }
        case .array(let items):
            for item in items { walk(item, under: key) }
        default:
            break
        }
    }

    /// `orders` → `order`, `payment_methods` → `payment_method`, `addresses` → `address`.
    static func singular(_ word: String) -> String {
        if word.hasSuffix("sses") { return String(word.dropLast(2)) }
        if word.hasSuffix("ies") { return String(word.dropLast(3)) + "y" }
        if word.hasSuffix("s") && !word.hasSuffix("ss") { return String(word.dropLast()) }
        return word
    }

    /// Values of `key` that belong with `near`: in a record that holds one of them, or in the answer of
    /// a read whose arguments held one of them or a value of such a record (an order's item → its
    /// product → that product's other items). Records that say they are available come first.
    public func related(_ key: String, near: [JSONValue]) -> [JSONValue] {
        let nearSet = Set(near)
        var nearRecords: Set<Int> = []
        for value in nearSet { nearRecords.formUnion(recordsByValue[value] ?? []) }
        var hop1: Set<JSONValue> = nearSet
        for i in nearRecords { hop1.formUnion(records[i].values) }
        var out: [JSONValue] = []
        var later: [JSONValue] = []
        func take(_ record: [String: JSONValue]) {
            guard let value = record[key], Self.usable(value), !out.contains(value), !later.contains(value) else { return }
            if record["available"] == .bool(false) || record["active"] == .bool(false) { later.append(value) } else { out.append(value) }
        }
        for i in nearRecords.sorted() { take(records[i]) }
        var reads: Set<Int> = []
        for value in hop1 { reads.formUnion(readsByArgument[value] ?? []) }
        for i in reads.sorted() {
            guard let range = readRecords[i] else { continue }
            for record in records[range] { take(record) }
        }
        return out + later
    }
}
