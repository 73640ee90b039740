/// How far a write tool is rolled out for a tenant. Tools move one step at a time, forward only
/// through the gates; back at once.
public enum Stage: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    /// The tool is refused.
    case off
    /// The agent proposes; every call is validated and audited, nothing executes.
    case shadow
    /// Writes execute for this tenant, watched closely: the soft launch.
    case soft
    /// Writes execute; the tool is generally available for this tenant.
    case broad

    public var next: Stage? {
        switch self {
        case .off: .shadow
        case .shadow: .soft
        case .soft: .broad
        case .broad: nil
        }
    }

    public var previous: Stage? {
        switch self {
        case .off: nil
        case .shadow: .off
        case .soft: .shadow
        case .broad: .soft
        }
    }

    /// Whether calls at this stage change state.
    public var executes: Bool { self == .soft || self == .broad }

    private var order: Int { Stage.allCases.firstIndex(of: self)! }

    public static func < (a: Stage, b: Stage) -> Bool { a.order < b.order }
}
