import ArgumentParser
import RolloutCore

/// `--tenant` as tenants.yaml spells it, byte for byte (`TenantsFile.spelledOtherwise`): refused before
/// anything runs otherwise.
enum TenantSpelling {
    static func check(_ typed: String, in tenants: TenantsFile) throws {
        guard let listed = tenants.spelledOtherwise(typed) else { return }
        throw ValidationError("--tenant \(typed) is written in another Unicode form than tenants.yaml's \(listed) (\(typed.utf8.count) bytes against \(listed.utf8.count)): give it exactly as tenants.yaml does, as the host's rows and the audit log compare bytes")
    }
}
