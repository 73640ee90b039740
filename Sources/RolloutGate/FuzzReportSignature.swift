import Foundation
import RolloutReports
import RolloutStore

/// The chain key's signature on a fuzz report's verdict: what `rollout fuzz` adds when it has the key,
/// and what the fuzz gate requires when it has it. Written once, so the two cannot drift apart.
public enum FuzzReportSignature {
    /// `report` with its verdict signed under `key`.
    public static func signed(_ report: JUnitReport, key: ChainKey) -> JUnitReport {
        JUnitVerdictDigest.signed(report, signature: expected(report, key: key))
    }

    /// Why `report` does not carry `key`'s signature of what it says, or nil when it does.
    public static func problem(_ report: JUnitReport, key: ChainKey) -> String? {
        let signatures = JUnitVerdictDigest.signatures(report)
        if signatures == [expected(report, key: key)] { return nil }
        return signatures.isEmpty
            ? "the fuzz report is not signed, and ROLLOUT_CHAIN_KEY is set: run `rollout fuzz` with the key"
            : "the fuzz report's signature does not match what it says: it was edited, or signed with another key; run `rollout fuzz` again"
    }

    static func expected(_ report: JUnitReport, key: ChainKey) -> String {
        key.mac(fuzzReport: JUnitVerdictDigest.of(report))
    }
}
