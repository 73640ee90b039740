import ArgumentParser
import RolloutCore

/// The tenant a host vouches for, as tenants.yaml spells it. Swift compares text by canonical equivalence
/// (`café` composed equals `café` decomposed), but the audit log's queries and the upstream's rows compare
/// bytes: a tenant typed in another Unicode form would find its stage, then be recorded where the gates
/// never look, and judged against rows it does not match. Refused before anything runs.
enum TenantSpelling {
    static func check(_ typed: String, in tenants: TenantsFile) throws {
        let listed = tenants.spelling(of: typed)
        guard Array(listed.utf8) == Array(typed.utf8) else {
            throw ValidationError("--tenant \(typed) is written in another Unicode form than tenants.yaml's \(listed) (bytes \(Array(typed.utf8).count) against \(Array(listed.utf8).count)): give it exactly as tenants.yaml does, as the host's rows and the audit log compare bytes")
        }
    }
}
