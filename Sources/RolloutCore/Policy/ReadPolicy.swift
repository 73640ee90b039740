/// A read tool the agent may call (`reads:`): forwarded as it is, after its scoping checks and before
/// its rules over the answer. A tool the upstream lists that is neither a write tool nor a read of the
/// policy is hidden and refused (`tool_undescribed`): default deny.
public struct ReadPolicy: Sendable, Hashable {
    /// The tool's wire name, or a glob with `*` that the user wrote on purpose.
    public var pattern: String
    /// An argument that must equal the principal's tenant.
    public var tenantField: JSONPointer?
    /// An argument that must equal the principal's subject (the end user).
    public var principalField: JSONPointer?
    /// Conditions over the answer (`after`) that withhold it: a read that shows another user's or
    /// another tenant's row is refused.
    public var rules: [ToolRule]
    /// The arguments the read takes, when the policy lists them (`args:`): any other is refused, as for
    /// write tools (an argument such as `state_key` or `tenant` can select someone else's data).
    public var arguments: [String]?
    public var sourceLine: Int?

    public init(pattern: String, tenantField: JSONPointer? = nil, principalField: JSONPointer? = nil, rules: [ToolRule] = [], sourceLine: Int? = nil) {
        self.pattern = pattern
        self.tenantField = tenantField
        self.principalField = principalField
        self.rules = rules
        self.sourceLine = sourceLine
    }

    public var isGlob: Bool { pattern.contains("*") }

    /// Whether the wire name `tool` is this read: exactly, or by the glob.
    public func matches(_ tool: String) -> Bool {
        guard isGlob else { return tool == pattern }
        return Self.glob(Array(pattern.unicodeScalars)[...], Array(tool.unicodeScalars)[...])
    }

    private static func glob(_ pattern: ArraySlice<Unicode.Scalar>, _ text: ArraySlice<Unicode.Scalar>) -> Bool {
        guard let head = pattern.first else { return text.isEmpty }
        if head == "*" {
            let rest = pattern.dropFirst()
            var t = text
            while true {
                if glob(rest, t) { return true }
                guard !t.isEmpty else { return false }
                t = t.dropFirst()
            }
        }
        guard let first = text.first, first == head else { return false }
        return glob(pattern.dropFirst(), text.dropFirst())
    }
}
