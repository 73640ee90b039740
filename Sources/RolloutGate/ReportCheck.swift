import Foundation
import RolloutCore
import RolloutReports
import RolloutStore

/// `rollout report --verify`: a report folder checked against its store. The report's digests have no
/// key, so only the store (its calls listed again, its chain head and verdict) and, with the chain key,
/// the report's signature can say it is the one that was made.
public enum ReportCheck: Sendable {
    /// It agrees with itself and with the store.
    case verified(digest: String)
    /// Nothing could be checked against a store: none was found, or its signed chain needs the key.
    case notVerified(String)
    /// What does not match, one line each.
    case failed([String])

    /// Checks the report in `directory` against `store` (nil: none found), with `key` when given.
    public static func run(directory: String, store: AuditStore?, key: ChainKey?) throws -> ReportCheck {
        // The store's chain is verified once; a signed chain without its key cannot be, which is said as such.
        let verification = try store.map { try $0.verify(key: key, anchor: $0.anchor) }
        if let missing = verification?.firstBreak, missing.problem == .keyMissing {
            return .notVerified("\(missing.detail); the report's rows and verdict cannot be checked against this store without it")
        }
        let outcome = try ComplianceVerifier.check(
            directory: directory, headHash: store.map { a in { try a.eventHash(seq: $0) } },
            firstBreak: verification.map { v in { v.firstBreak?.seq } },
            rows: store.map { a in { from, to, tenants, through in
                try ComplianceCollector.rows(store: a, scope: ComplianceScope(from: from, to: to, tenants: tenants, maxSeq: through))
            } },
            // With the key the signature vouches for how far the report listed.
            laterCall: key != nil ? nil : store.map { a in { from, to, tenants, after in
                try a.firstCall(ComplianceScope(from: from, to: to, tenants: tenants), after: after)
            } },
            signature: key.map { key in { key.mac(reportDigest: $0) } },
            filesSignature: key.map { key in { key.mac(reportFiles: $0) } },
            eventTime: store.map { a in { try a.event(seq: $0)?.ts } })
        if !outcome.problems.isEmpty { return .failed(outcome.problems) }
        guard store != nil else {
            // Its files agree with each other, which anyone who rewrites them all can make so: unverified.
            return .notVerified("the files agree with each other (digest \(outcome.digest)), but no store was found to check its calls, chain head and verdict against; give --store (or set ROLLOUT_STORE)")
        }
        return .verified(digest: outcome.digest)
    }
}
