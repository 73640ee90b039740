import Foundation
import RolloutCore

/// One anomaly with its explanation: which signal, on which entity, over which window, what was
/// observed against what was expected (and the band), and the events behind it.
public struct Anomaly: Sendable, Hashable {
    /// The families the JUnit report groups test cases by.
    public enum Family: String, Sendable, CaseIterable, Codable {
        /// Write rates: per tenant, tool and actor.
        case rate
        /// Deterministic rules over events.
        case rules
        /// An actor or a field doing something it never did before.
        case rarity
        /// A value far outside its field's past.
        case values
    }

    public var tenant: String
    public var family: Family
    /// The signal: `rate`, `missing_reason`, `key_reuse`, `duplicate_write`, `deny_burst`, `write_around_approval`,
    /// `bulk_rows`, `first_destructive`, `rare_pair`, `value_outlier`.
    public var signal: String
    /// What it is about: "tenant acme", "tool orders.update", "actor agent-7".
    public var entity: String
    public var start: Date
    public var end: Date
    public var observed: Double
    public var expected: Double
    public var bandLow: Double
    public var bandHigh: Double
    /// Score in [0, 1].
    public var score: Double
    /// Audit event ids behind it (at most 50).
    public var events: [Int64]
    /// The explanation in one sentence.
    public var message: String

    public var json: JSONValue {
        [
            "tenant": .string(tenant), "family": .string(family.rawValue), "signal": .string(signal), "entity": .string(entity),
            "start": .string(Timestamp.format(start)), "end": .string(Timestamp.format(end)),
            "observed": .number(observed), "expected": .number((expected * 100).rounded() / 100),
            "band": [.number((bandLow * 100).rounded() / 100), .number((bandHigh * 100).rounded() / 100)],
            "score": .number(score), "events": .array(events.map { .number(Double($0)) }), "message": .string(message),
        ]
    }
}
