import Foundation
import RolloutCore
import RolloutReports

/// Scores as a JUnit report (one suite per tenant, one test case per day and signal family, a failure
/// per anomaly with its explanation), and as per-interval CSV that shared/anomaly/baseline.py reads.
public enum ScoreReport {
    public static func junit(_ scores: [TenantScore], toolVersion: String, policyDigest: String?) -> JUnitReport {
        let suites = scores.map { score -> JUnitSuite in
            var cases: [JUnitCase] = []
            var day = Calendar.utc.startOfDay(for: score.from)
            while day < score.until {
                let next = day.addingTimeInterval(86_400)
                for family in Anomaly.Family.allCases {
                    let found = score.anomalies.filter { $0.family == family && $0.start >= day && $0.start < next }
                    var testCase = JUnitCase(classname: score.tenant, name: "\(Timestamp.day(day)) \(family.rawValue)")
                    if !found.isEmpty {
                        let message = "\(found.count) anomal\(found.count == 1 ? "y" : "ies"): \(found[0].message)"
                        let body = found.enumerated().map { i, a in
                            "\(i + 1). [\(a.signal)] \(a.message)\n   window \(Timestamp.formatSeconds(a.start)) to \(Timestamp.formatSeconds(a.end)); observed \(JSONValue.formatNumber(a.observed)), expected \(String(format: "%.1f", a.expected)) (band \(String(format: "%.1f", a.bandLow))–\(String(format: "%.1f", a.bandHigh))); score \(String(format: "%.6f", a.score))\n   events: \(a.events.map(String.init).joined(separator: ", "))"
                        }.joined(separator: "\n\n")
                        testCase.result = .failure(message: message, type: "anomaly_\(family.rawValue)", body: body)
                    }
                    cases.append(testCase)
                }
                day = next
            }
            var properties = [
                JUnitProperty("rollout.version", toolVersion), JUnitProperty("tenant", score.tenant),
                JUnitProperty("window.from", Timestamp.formatSeconds(score.from)), JUnitProperty("window.until", Timestamp.formatSeconds(score.until)),
                JUnitProperty("events", String(score.events)), JUnitProperty("active_days", String(score.activeDays)),
            ]
            if let policyDigest { properties.append(JUnitProperty("policy.digest", policyDigest)) }
            return JUnitSuite(name: "score \(score.tenant)", timestamp: score.until, properties: properties, cases: cases)
        }
        return JUnitReport(name: "rollout score", suites: suites)
    }

    /// `interval_start,score` rows, NAB-style naive UTC timestamps (`2015-02-26 21:42:53`).
    public static func intervalsCSV(_ score: TenantScore) -> String {
        var out = "interval_start,score\n"
        out.reserveCapacity(score.intervals.count * 32)
        for interval in score.intervals {
            let stamp = Timestamp.formatSeconds(interval.start).replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: "")
            out += "\(stamp),\(String(format: "%.9f", interval.score))\n"
        }
        return out
    }

    /// A file name for a tenant: the part after the last "/" or ":" (NAB tenants are `nab:realTweets/Twitter_volume_AAPL`).
    /// Writes each tenant's per-interval scores as `<series>.csv` in `directory` (for baseline.py --external).
    public static func writeIntervals(_ scores: [TenantScore], to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for score in scores {
            let path = (directory as NSString).appendingPathComponent(seriesName(score.tenant) + ".csv")
            try intervalsCSV(score).write(toFile: path, atomically: true, encoding: .utf8)
        }
    }

    public static func seriesName(_ tenant: String) -> String {
        let name = tenant.split(whereSeparator: { $0 == "/" || $0 == ":" }).last.map(String.init) ?? tenant
        return name.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." ? $0 : "_" }.map(String.init).joined()
    }
}

extension Calendar {
    /// The Gregorian calendar in UTC: days in reports are UTC days.
    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()
}
