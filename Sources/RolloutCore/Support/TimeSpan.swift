import Foundation

/// A length of time written the way people write it in a policy: `30s`, `15m`, `1h`, `7d`, `2w`,
/// or combined as `1h30m`; ISO 8601 durations (`PT1H`, `P7D`) are accepted too. Used for cap
/// windows, soak periods and approval lifetimes.
public struct TimeSpan: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public let seconds: Int

    public init(seconds: Int) {
        self.seconds = seconds
    }

    public static func days(_ n: Int) -> TimeSpan { TimeSpan(seconds: n * 86_400) }
    public static func hours(_ n: Int) -> TimeSpan { TimeSpan(seconds: n * 3_600) }
    public static func minutes(_ n: Int) -> TimeSpan { TimeSpan(seconds: n * 60) }

    /// Parses `text`; nil unless it is a positive duration.
    public init?(_ text: String) {
        let s = text.trimmingCharacters(in: .whitespaces)
        if s.uppercased().hasPrefix("P") {
            guard let iso = Self.parseISO(s.uppercased()), iso > 0 else { return nil }
            seconds = iso
            return
        }
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800]
        var total = 0
        var digits = ""
        var sawUnit = false
        for c in s {
            if c.isASCII, c.isNumber {
                digits.append(c)
            } else if let unit = units[c], let n = Int(digits) {
                // Hostile input (9999999999999999999w) is not a duration, not an overflow trap.
                let (part, overflow) = n.multipliedReportingOverflow(by: unit)
                let (sum, overflowSum) = total.addingReportingOverflow(part)
                guard !overflow, !overflowSum, sum <= Self.longest else { return nil }
                total = sum
                digits = ""
                sawUnit = true
            } else {
                return nil
            }
        }
        guard digits.isEmpty, sawUnit, total > 0 else { return nil }
        seconds = total
    }

    /// About 100 years: longer is a typo or an attack, not a window.
    public static let longest = 3_153_600_000

    /// A duration as a command-line option takes it: the forms above, or a bare number of seconds.
    public init?(argument text: String) {
        if let n = Int(text.trimmingCharacters(in: .whitespaces)), n > 0, n <= Self.longest {
            self.init(seconds: n)
            return
        }
        self.init(text)
    }

    private static func parseISO(_ s: String) -> Int? {
        var total = 0
        var digits = ""
        var inTime = false
        for c in s.dropFirst() {
            if c == "T" {
                inTime = true
                continue
            }
            if c.isNumber {
                digits.append(c)
                continue
            }
            guard let n = Int(digits) else { return nil }
            digits = ""
            let unit: Int
            switch (c, inTime) {
            case ("W", false): unit = 604_800
            case ("D", false): unit = 86_400
            case ("H", true): unit = 3_600
            case ("M", true): unit = 60
            case ("S", true): unit = 1
            default: return nil
            }
            let (part, overflow) = n.multipliedReportingOverflow(by: unit)
            let (sum, overflowSum) = total.addingReportingOverflow(part)
            guard !overflow, !overflowSum, sum <= longest else { return nil }
            total = sum
        }
        return digits.isEmpty ? total : nil
    }

    public var timeInterval: TimeInterval { TimeInterval(seconds) }

    /// The shortest exact form: `7d`, `1h`, `90m`, `45s`.
    public var description: String {
        for (unit, size) in [("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60)] where seconds % size == 0 {
            return "\(seconds / size)\(unit)"
        }
        return "\(seconds)s"
    }

    public static func < (a: TimeSpan, b: TimeSpan) -> Bool { a.seconds < b.seconds }

    /// An elapsed time for people, in the largest units that keep it exact enough: `0s`, `42m`,
    /// `3h 20m`, `2d 4h`. Negative times (a clock behind) count as 0.
    public static func describe(seconds: Double) -> String {
        let total = max(0, Int(seconds.rounded(.down)))
        let days = total / 86_400, hours = total % 86_400 / 3_600, minutes = total % 3_600 / 60
        if days > 0 { return hours > 0 ? "\(days)d \(hours)h" : "\(days)d" }
        if hours > 0 { return minutes > 0 ? "\(hours)h \(minutes)m" : "\(hours)h" }
        if minutes > 0 { return "\(minutes)m" }
        return "\(total)s"
    }
}
