/// A read the guard makes through the upstream's own read tool before it decides (`lookups:`): the
/// current state that rules and before-values need when there is no database to observe ("only pending
/// orders", "a payment method of the order's owner"). Its answer is cached for the decision and recorded
/// in the audit row.
public struct Lookup: Sendable, Hashable {
    /// Where one argument of the lookup's call comes from.
    public enum Source: Sendable, Hashable {
        /// A place in the write call's arguments.
        case argument(JSONPointer)
        /// The principal the host gave: `$tenant`, `$actor`, `$subject`.
        case tenant, actor, subject
        case literal(JSONValue)
    }

    public var name: String
    /// The upstream read tool, as it is called on the wire.
    public var tool: String
    public var arguments: [String: Source]
    /// The part of the answer to keep (the whole answer when nil).
    public var select: JSONPointer?
    /// When true a failed lookup reads as null; otherwise the call is refused (`lookup_failed`).
    public var optional: Bool

    public init(name: String, tool: String, arguments: [String: Source], select: JSONPointer? = nil, optional: Bool = false) {
        self.name = name
        self.tool = tool
        self.arguments = arguments
        self.select = select
        self.optional = optional
    }

    /// The lookup's arguments for a write call by `principal`; nil when an argument it needs is missing.
    public func arguments(for call: ToolCall, principal: Principal) -> JSONValue? {
        var out: [String: JSONValue] = [:]
        for (name, source) in arguments {
            switch source {
            case .argument(let pointer):
                guard let value = pointer.resolve(in: call.arguments), !value.isNull else { return nil }
                out[name] = value
            case .tenant: out[name] = .string(principal.tenant)
            case .actor: out[name] = .string(principal.actor)
            case .subject:
                guard let subject = principal.subject else { return nil }
                out[name] = .string(subject)
            case .literal(let value): out[name] = value
            }
        }
        return .object(out)
    }
}
