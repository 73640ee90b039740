import RolloutCore

/// A gap the adversary found and could reproduce: the minimal call, what happened, what a safe
/// system does, and where its replay file is.
public struct Finding: Sendable {
    public var tool: String
    public var attackClass: AttackClass
    public var kind: GapKind
    public var variant: String
    public var setup: [AttackStep]
    /// The attacking call after shrinking.
    public var step: AttackStep
    public var expectation: SafeBehaviour
    public var observed: String
    /// Why it is a gap: the policy rule broken, or the baseline rule the policy lacks.
    public var rule: String
    public var replayFile: String?
}

/// How one attack class went for one tool.
public struct ClassResult: Sendable {
    public enum Status: Sendable {
        case passed
        case failed
        /// The class does not apply (a single-row tool has no row attacks) or the target cannot be tested
        /// for it (an MCP server has no stages).
        case skipped(String)
        /// The target broke while under this class.
        case error(String)
        /// The adversary's valid baseline call was itself refused, so refusals prove nothing here.
        case inconclusive(String)
    }

    public var tool: String
    public var attackClass: AttackClass
    public var status: Status
    public var findings: [Finding]
    public var calls: Int
    public var attacks: Int
    public var seconds: Double
    /// What each attack met, in order: the variant and the target's answer (for the rules class, the
    /// per-rule verdict a report shows).
    public var outcomes: [(variant: String, answer: String, call: JSONValue)] = []
    /// Variants the class wanted to try and could not build, and why.
    public var unreachable: [String] = []

    public init(tool: String, attackClass: AttackClass, status: Status, findings: [Finding], calls: Int, attacks: Int, seconds: Double) {
        self.tool = tool
        self.attackClass = attackClass
        self.status = status
        self.findings = findings
        self.calls = calls
        self.attacks = attacks
        self.seconds = seconds
    }
}
