import Foundation
import RolloutCore
import RolloutStore

/// The kill switch across hosts: a stage source that also obeys the pauses recorded in the audit store.
/// `rollout pause` edits the `tenants.yaml` of the host it runs on and records the pause in the store;
/// guards on other hosts that write the same store (one PostgreSQL store for many hosts) read it here,
/// so their tenant is off too, whatever their own file says. A tenant is paused when its file says so
/// or the store does (the stricter wins); stages still travel with the file. The store is read again
/// for a tenant once its last read is `maxAge` old, so a pause reaches every host within that; a store
/// that cannot be read turns every tool of the tenant off until it reads again.
public final class SharedPauses: StageSource, @unchecked Sendable {
    public let base: any StageSource
    public let maxAge: TimeInterval
    private let lookUp: @Sendable (String) throws -> SharedPause?
    private let clock: any TimeSource
    private let lock = NSLock()
    private var known: [String: (readAt: Date, off: String?)] = [:]

    /// Pauses of `store` over `base`, read on a connection of their own: the guard asks again inside its
    /// decision's transaction, where a read on the store's own connection would wait for itself. A
    /// store that cannot be opened a second time leaves every tenant off (its reason says why).
    public convenience init(_ base: any StageSource, store: AuditStore, maxAge: TimeInterval = 1, clock: any TimeSource = SystemTime()) {
        let reader = Reader(store)
        self.init(base, maxAge: maxAge, clock: clock) { try reader.store().sharedPause(tenant: $0) }
    }

    /// The connection pauses are read on, opened at the first read and again after a failed open (a
    /// database that refused one connection may take it later).
    private final class Reader: @unchecked Sendable {
        let source: AuditStore
        private let lock = NSLock()
        private var opened: AuditStore?

        init(_ source: AuditStore) { self.source = source }

        func store() throws -> AuditStore {
            lock.lock()
            defer { lock.unlock() }
            if let opened { return opened }
            let store = try source.separateReader()
            opened = store
            return store
        }
    }

    /// Pauses that `lookUp` reads (tests give their own).
    public init(_ base: any StageSource, maxAge: TimeInterval = 1, clock: any TimeSource = SystemTime(),
                lookUp: @escaping @Sendable (String) throws -> SharedPause?) {
        self.base = base
        self.maxAge = maxAge
        self.clock = clock
        self.lookUp = lookUp
    }

    public func stage(tenant: String, tool: String) -> Stage {
        storeOff(tenant) == nil ? base.stage(tenant: tenant, tool: tool) : .off
    }

    public func offReason(tenant: String) -> String? {
        base.offReason(tenant: tenant) ?? storeOff(tenant)
    }

    /// Why the store turns the tenant off (paused there, or unreadable), or nil.
    func storeOff(_ tenant: String) -> String? {
        let now = clock.now()
        lock.lock()
        if let entry = known[tenant], now.timeIntervalSince(entry.readAt) < maxAge, now >= entry.readAt {
            lock.unlock()
            return entry.off
        }
        lock.unlock()
        let off: String?
        do {
            off = try lookUp(tenant).flatMap { pause in
                guard pause.paused else { return nil }
                return "tenant \(tenant) was paused by \(pause.by) at \(Timestamp.format(pause.at))"
                    + (pause.reason.map { " (\($0))" } ?? "")
                    + ", recorded in the audit store: every write tool is off on every host until a person runs `rollout resume --tenant \(tenant)`"
            }
        } catch {
            off = "the audit store's pauses could not be read (\(error)), so every write tool of tenant \(tenant) is off"
        }
        lock.lock()
        known[tenant] = (now, off)
        lock.unlock()
        return off
    }
}
