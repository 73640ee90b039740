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

extension BackendRun {
    /// Runs approval `id` on the backend its write was queued on, observing the database its pending
    /// event recorded unless `observe` names another, and starting the bare command it recorded unless
    /// `command` is given: what `rollout approve` and serve's Approve do.
    public static func approve(
        _ id: Int64, by approver: String, reason: String?, folder: RolloutFolder, store: AuditStore, command: [String]? = nil,
        observe: String? = nil, log: @escaping @Sendable (String) -> Void
    ) async throws -> Decision {
        guard let queued = try store.approval(id: id) else { throw GuardError.noSuchApproval(id) }
        // Nothing starts for an approval whose pending event is not one a guard queued and the chain holds: the
        // approvals table is not chained, and an imported line is anyone's (a `command:` backend with the line's
        // own command and digest ran that command before the guard refused it; helper-80). A guard over the
        // store alone refuses it, audited, having started nothing.
        guard let pending = try? store.heldEvent(seq: queued.pendingSeq), !pending.isImported,
              pending.decision == DecisionCode.pendingApproval.rawValue, pending.backend?.hasSameBytes(as: queued.backend) == true
        else {
            return try await storeOnly(folder: folder, store: store).approve(id, by: approver, reason: reason)
        }
        return try await with(backend: queued.backend, folder: folder, store: store, command: command ?? pending.recordedCommand,
                              observe: observe ?? pending.observedDatabase, log: log) {
            try await $0.approve(id, by: approver, reason: reason)
        }
    }

    /// Rolls event `seq` back on the backend that wrote it, observing the database its write recorded
    /// unless `observe` names another: what `rollout audit rollback` and serve's Roll back do. An event
    /// whose body no longer reads names no backend that can be trusted: a guard over the store alone
    /// refuses it, audited.
    public static func rollback(
        _ seq: Int64, by person: String, reason: String, folder: RolloutFolder, store: AuditStore, command: [String]? = nil,
        observe: String? = nil, log: @escaping @Sendable (String) -> Void
    ) async throws -> Decision {
        // Only an executed write a guard ran, whose row the chain holds, names the backend and command to start:
        // an imported line names what it likes (its own command with its digest, which ran before the guard
        // refused the rollback; helper-80), and an edited row names nothing that can be trusted. Any other event
        // is refused, audited, by a guard over the store alone, which starts nothing.
        let held: AuditEvent?
        do {
            held = try store.heldEvent(seq: seq)
        } catch StoreError.unreadableEvent {
            held = nil
        }
        guard let event = held, !event.isImported, event.decision == DecisionCode.executed.rawValue else {
            return try await storeOnly(folder: folder, store: store).rollback(seq, by: person, reason: reason)
        }
        return try await with(backend: event.backend ?? GuardBackend.builtin, folder: folder, store: store, command: command ?? event.recordedCommand,
                              observe: observe ?? event.observedDatabase, log: log) {
            try await $0.rollback(seq, by: person, reason: reason)
        }
    }

    /// Denies approval `id`: a denial runs nothing, so it needs no backend, only the store.
    public static func deny(_ id: Int64, by approver: String, reason: String, folder: RolloutFolder, store: AuditStore) async throws -> Decision {
        try await storeOnly(folder: folder, store: store).deny(id, by: approver, reason: reason)
    }

    /// A guard over the store alone (no backend, every stage off): for what records a decision and runs nothing.
    static func storeOnly(folder: RolloutFolder, store: AuditStore) throws -> Guard {
        let policy = try folder.loadPolicy()
        return Guard(policy: policy, stages: FixedStages(.off), environment: try StoreEnvironment(store: store, policy: policy))
    }
}
