import RolloutCore
import RolloutStore

extension TenantsFile {
    /// The file as this host should act on it: every tenant the audit store holds paused (paused on any
    /// host that writes the store) is paused, whatever the file says. For status, flags and reports.
    public func withSharedPauses(from store: AuditStore?) throws -> TenantsFile {
        guard let store else { return self }
        return pausing(Set(try store.sharedPauses().map(\.tenant)))
    }

    /// The file with the tenants named in `ids` paused (names compared as Swift compares strings, so a
    /// name in another Unicode form is the same tenant).
    public func pausing(_ ids: Set<String>) -> TenantsFile {
        guard !ids.isEmpty else { return self }
        var out = self
        for i in out.tenants.indices where !out.tenants[i].paused && ids.contains(where: { $0 == out.tenants[i].id }) {
            out.tenants[i].paused = true
        }
        return out
    }
}
