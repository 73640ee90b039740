import Foundation
import RolloutCore

/// The verdict of one gate, in the vocabulary CI systems use for checks: only `successful` lets a
/// promotion through; a missing or stale input is an `error`, never a pass.
public enum GateStatus: String, Sendable, Hashable, Codable {
    case successful, failed, inconclusive, error
}

/// One gate's verdict and why.
public struct GateResult: Sendable, Hashable {
    /// `fuzz`, `anomalies`, `soak`, `approval` (or `stage` when the request itself cannot be evaluated).
    public var gate: String
    public var status: GateStatus
    public var reason: String
    /// Digests and figures the verdict rests on, recorded with a promotion.
    public var evidence: [String: String]

    public init(gate: String, status: GateStatus, reason: String, evidence: [String: String] = [:]) {
        self.gate = gate
        self.status = status
        self.reason = reason
        self.evidence = evidence
    }
}

/// Every gate for one tenant's (or tool's) next stage.
public struct GateEvaluation: Sendable {
    public var tenant: String
    public var tool: String?
    public var current: Stage
    public var next: Stage?
    public var at: Date
    public var results: [GateResult]
    /// What every verdict was made against: the policy digest and version, the audit chain head.
    public var context: [String: String] = [:]

    public var passed: Bool { next != nil && !results.isEmpty && results.allSatisfy { $0.status == .successful } }

    /// All evidence of all gates, plus what was decided.
    public var evidence: [String: String] {
        var out = context
        for r in results { for (k, v) in r.evidence { out[k] = v } }
        return out
    }

    /// One line per gate, for the store and for people.
    public var summary: String {
        results.map { "\($0.gate): \($0.status.rawValue) — \($0.reason)" }.joined(separator: "\n")
    }
}
