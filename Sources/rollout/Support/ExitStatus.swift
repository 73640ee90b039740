/// rollout's exit statuses, the same on every command.
enum ExitStatus {
    static let ok: Int32 = 0
    /// The check found a problem: a gap, an anomaly, a failed gate, lint errors.
    static let problemFound: Int32 = 1
    /// Bad input or usage.
    static let badInput: Int32 = 2
    /// Something broke that is not the user's input.
    static let internalError: Int32 = 3
}

/// Thrown by a command to end with a status after it has printed its own output.
struct FailureExit: Error {
    var status: Int32
}
