import Foundation

/// What `rollout serve` keeps in the store: notifications of queued writes, each target's attempts and
/// outcome; and the nonces of the signed requests it already acted on (each is used once, whichever
/// serve process answers it).
public struct Delivery: Sendable, Hashable {
    /// Pending until delivered, or failed after the last attempt.
    public enum Status: String, Sendable {
        case pending, delivered, failed
    }

    public var approvalID: Int64
    public var target: String
    public var status: Status
    public var attempts: Int
    public var lastError: String?
    public var updatedAt: Date

    public init(approvalID: Int64, target: String, status: Status, attempts: Int, lastError: String?, updatedAt: Date) {
        self.approvalID = approvalID
        self.target = target
        self.status = status
        self.attempts = attempts
        self.lastError = lastError
        self.updatedAt = updatedAt
    }
}

extension AuditStore {
    public func delivery(approval: Int64, target: String) throws -> Delivery? {
        try read { sql in
            guard let row = try sql.queryOne("SELECT * FROM deliveries WHERE approval_id = ? AND target = ?", [.int(approval), .text(target)]) else { return nil }
            return Delivery(approvalID: row.int("approval_id"), target: row.string("target"), status: Delivery.Status(rawValue: row.string("status")) ?? .failed,
                            attempts: Int(row.int("attempts")), lastError: row.optionalString("last_error"),
                            updatedAt: Date(timeIntervalSince1970: Double(row.int("updated_ms")) / 1000))
        }
    }

    public func recordDelivery(_ delivery: Delivery) throws {
        try write { tx in
            try tx.sql.execute("""
                INSERT INTO deliveries (approval_id, target, status, attempts, last_error, updated_ms) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (approval_id, target) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
                    last_error = excluded.last_error, updated_ms = excluded.updated_ms
                """, [.int(delivery.approvalID), .text(delivery.target), .text(delivery.status.rawValue), .int(Int64(delivery.attempts)),
                      SQLValue(delivery.lastError), .int(Self.millis(delivery.updatedAt))])
        }
    }

    /// Records `nonce` as used; false when it was used before (a replayed request).
    public func useNonce(_ nonce: String, at time: Date = Date()) throws -> Bool {
        try write { tx in
            try tx.sql.queryOne("INSERT INTO serve_nonces (nonce, seen_ms) VALUES (?, ?) ON CONFLICT (nonce) DO NOTHING RETURNING nonce",
                                [.text(nonce), .int(Self.millis(time))]) != nil
        }
    }
}
