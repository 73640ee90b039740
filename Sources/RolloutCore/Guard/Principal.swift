/// Who is calling: the tenant and actor the host vouches for, never taken from tool arguments.
/// An argument can narrow authority (a dry run, fewer rows), never widen it.
public struct Principal: Sendable, Hashable {
    public var tenant: String
    public var actor: String
    /// A conversation or agent run, for grouping audit events.
    public var session: String?
    /// When set, the only policy tools this principal may call, whatever the stage says.
    public var scopes: Set<String>?
    /// The end user the agent acts for, as the host says (`rollout guard --subject`): a tool with a
    /// `principal_field` may act only for this user. Compared exactly, like tenants.
    public var subject: String?

    public init(tenant: String, actor: String, session: String? = nil, scopes: Set<String>? = nil, subject: String? = nil) {
        self.tenant = tenant
        self.actor = actor
        self.session = session
        self.scopes = scopes
        self.subject = subject
    }
}
