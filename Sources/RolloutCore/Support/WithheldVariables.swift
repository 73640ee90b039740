import Foundation

/// Rollout's own secrets among environment variables: what no server rollout starts (an upstream behind
/// the guard, a fuzz target, an approval's or a rollback's upstream) ever gets, whatever it would
/// inherit or an upstreams.yaml entry names. A server is the part rollout does not trust, and it runs as
/// the same user beside the store: with the chain key it could sign a rewritten log that `audit verify`
/// then vouches for; with the webhook or Slack secrets it could forge the decisions sent back to
/// `rollout serve`; the store's location can hold a database password; the anchor's location points at
/// the file a tail is checked against.
public enum WithheldVariables {
    public static let names: Set<String> = [
        "ROLLOUT_CHAIN_KEY", "ROLLOUT_WEBHOOK_SECRET", "ROLLOUT_WEBHOOK_DECISION_SECRET", "ROLLOUT_WEBHOOK_URL", "ROLLOUT_SLACK_SIGNING_SECRET",
        "ROLLOUT_SLACK_WEBHOOK_URL",
        "ROLLOUT_STORE", "ROLLOUT_ANCHOR",
    ]

    /// Passed only to a server whose upstreams.yaml entry names it (`env:` or `inherit:`), never
    /// inherited unasked: PostgreSQL's password is the store's when its URL holds none, and a server of
    /// its own that needs one says so.
    public static let unlessNamed: Set<String> = ["PGPASSWORD"]

    /// `environment` without rollout's secrets.
    public static func removed(from environment: [String: String]) -> [String: String] {
        environment.filter { !names.contains($0.key) }
    }

    /// What a server inherits of `environment` unasked: neither rollout's secrets nor `unlessNamed`.
    public static func inheritable(_ environment: [String: String]) -> [String: String] {
        environment.filter { !names.contains($0.key) && !unlessNamed.contains($0.key) }
    }
}
