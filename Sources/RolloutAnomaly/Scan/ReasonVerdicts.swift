import RolloutCore

/// What each tool's reason rule says of a reason. ASCII reasons are judged on their bytes every time;
/// other texts once per (tool, text), since agents repeat their reasons. Texts are remembered up to
/// `limit`, then forgotten all at once (a log of unique reasons is judged one by one, in flat memory).
struct ReasonVerdicts {
    /// For tools the policy does not name.
    let defaultRule: ReasonRule
    /// Each policy tool's own rule, by name.
    let rules: [String: ReasonRule]
    var limit = 10_000
    private var toolRules: [Int32: ReasonRule] = [:]
    private var texts = TextInterner()
    private var verdicts: [Int64: String?] = [:]

    init(defaultRule: ReasonRule, rules: [String: ReasonRule]) {
        self.defaultRule = defaultRule
        self.rules = rules
    }

    /// Why `reason` (its bytes; nil when there is none) is not a real reason for tool `tool`, or nil.
    mutating func problem(_ reason: UnsafeRawBufferPointer?, tool: Int32, toolName: @autoclosure () -> String) -> String? {
        let rule: ReasonRule
        if let known = toolRules[tool] {
            rule = known
        } else {
            rule = rules[toolName()] ?? defaultRule
            toolRules[tool] = rule
        }
        guard let reason else { return rule.problem(with: nil) }
        // ASCII is judged on its bytes at about the cost of finding its verdict here: a unique reason
        // (a ticket number in it) is not remembered for nothing.
        if let ascii = ASCIIText(reason) { return rule.problem(ascii: ascii) }
        if texts.count >= limit {
            texts.removeAll()
            verdicts.removeAll(keepingCapacity: true)
        }
        let id = texts.id(reason)
        let key = RuleEngine.pair(id, tool)
        if let known = verdicts[key] { return known }
        let verdict = rule.problem(with: texts.names[Int(id)])
        verdicts[key] = verdict
        return verdict
    }
}
