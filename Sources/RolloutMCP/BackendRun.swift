import Foundation
import RolloutCore
import RolloutGuard
import RolloutStore

/// Runs a guard action (approve, roll back) on the backend a write ran on: starts its upstream for the
/// action and stops it after, whatever happens.
public enum BackendRun {
    public static func with(
        backend: String, folder: RolloutFolder, store: AuditStore, command: [String]?, observe: String?,
        log: @escaping @Sendable (String) -> Void, _ action: (Guard) async throws -> Decision
    ) async throws -> Decision {
        let policy = try folder.loadPolicy()
        let stages = SharedPauses(try folder.loadTenants(policy: policy), store: store)
        let (guard_, upstream) = try GuardAssembly.guardFor(
            backend: backend, folder: folder, policy: policy, stages: stages, store: store,
            command: command, observe: observe, log: log)
        if let upstream {
            // A server that cannot start does not stop the action: its checks need no server (a settled or
            // misplaced approval is refused and audited all the same), and a write it forwards finds the
            // server down, which the guard records as not sent (an approval stays pending, a rollback open).
            do {
                try await upstream.start()
            } catch {
                log("rollout: the upstream could not start: \(error)")
            }
        }
        let result: Result<Decision, Error>
        do {
            result = .success(try await action(guard_))
        } catch {
            result = .failure(error)
        }
        if let upstream { await upstream.stop() }
        return try result.get()
    }
}
