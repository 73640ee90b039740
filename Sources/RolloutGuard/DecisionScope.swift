import RolloutCore

/// Where the deciding guard writes and how it marks secret values: a dry run is bound to both (the
/// upstream it showed its diff for, its changes as recorded), and an idempotency key answers only where
/// its write was made.
struct DecisionScope: Sendable {
    /// The guard's backend (`Guard.backend`), recorded on every event and ledger entry.
    var backend: String
    /// The store's redactor, whose marks stand for secret values in what a dry run showed, and whose key
    /// keys the bindings' digests.
    var redactor: Redactor
    /// Where the upstream writes, as the guard's placement marks (`Guard.placement`: its command, program,
    /// directory, environment and `env:` values): one upstream entry started with another `TINY_DB` is
    /// another place. The database it observes is left out (it changes what the guard reads, not where the
    /// write lands), and so are the per-variable marks (the environment's one mark covers them).
    var placement: JSONValue = .object([:])

    /// The placement marks that say where an upstream writes (see `placement`).
    static func writingPlace(_ placement: [String: JSONValue]) -> JSONValue {
        .object(placement.filter { $0.key != "observe" && $0.key != Guard.environmentMarks })
    }
}
