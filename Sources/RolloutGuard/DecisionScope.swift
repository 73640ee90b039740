import RolloutCore

/// Where the deciding guard writes and how it marks secret values: a dry run is bound to both (the
/// backend it showed its diff for, its changes as recorded), and an idempotency key answers only on the
/// backend its write was made on.
struct DecisionScope: Sendable {
    /// The guard's backend (`Guard.backend`), recorded on every event and ledger entry.
    var backend: String
    /// The store's redactor, whose marks stand for secret values in what a dry run showed.
    var redactor: Redactor
}
