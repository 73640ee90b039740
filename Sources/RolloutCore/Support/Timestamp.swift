import Foundation

/// RFC 3339 timestamps (`2026-11-25T06:27:36.123Z`), parsed and printed without a date formatter:
/// the audit import reads one per event, so this is on a hot path.
public enum Timestamp {
    /// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.fff...]]` with `Z`, `±HH:MM` or no zone (UTC);
    /// a space may stand for the `T`. Nil for anything else.
    public static func parse(_ text: String) -> Date? {
        var copy = text
        return copy.withUTF8 { parse(bytes: $0) }
    }

    /// A day (`2026-11-01`, its UTC midnight) or an RFC 3339 time: how commands and pages take a period's ends.
    public static func parseDayOrTime(_ text: String) -> Date? {
        if text.count == 10, let d = parse(text + "T00:00:00Z") { return d }
        return parse(text)
    }

    public static func parse(bytes b: UnsafeBufferPointer<UInt8>) -> Date? {
        parseMillis(bytes: b).map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }

    /// The first and last millisecond a time may have: years 0001 to 9999, in UTC, as the text the store
    /// keeps can hold them.
    static let millisRange: ClosedRange<Int64> = -62_135_596_800_000...253_402_300_799_999

    /// The time `b` names, in whole milliseconds since the epoch (digits past the millisecond are dropped),
    /// computed in integers so that its text and its milliseconds always agree. Nil for anything but a
    /// time, and for a time outside years 0001 to 9999 once its zone is applied.
    public static func parseMillis(bytes b: UnsafeBufferPointer<UInt8>) -> Int64? {
        func digits(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= b.count else { return nil }
            var v = 0
            for i in start..<(start + count) {
                let c = b[i]
                guard c >= 0x30, c <= 0x39 else { return nil }
                v = v * 10 + Int(c - 0x30)
            }
            return v
        }
        guard let year = digits(0, 4), b.count >= 10, b[4] == 0x2D, let month = digits(5, 2), b[7] == 0x2D,
            let day = digits(8, 2), (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year)
        else { return nil }
        var millis = Int64(daysFromCivil(year, month, day)) * 86_400_000
        func within(_ value: Int64) -> Int64? { millisRange.contains(value) ? value : nil }
        if b.count == 10 { return within(millis) }
        guard b[10] == 0x54 || b[10] == 0x74 || b[10] == 0x20, let hour = digits(11, 2), b.count > 13, b[13] == 0x3A,
            let minute = digits(14, 2), hour < 24, minute < 60
        else { return nil }
        millis += Int64(hour * 3600 + minute * 60) * 1000
        var i = 16
        if i < b.count, b[i] == 0x3A {
            guard let second = digits(17, 2), second <= 60 else { return nil }  // 60: a leap second
            millis += Int64(second) * 1000
            i = 19
            if i < b.count, b[i] == 0x2E || b[i] == 0x2C {
                i += 1
                var scale: Int64 = 100
                let start = i
                while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                    millis += Int64(b[i] - 0x30) * scale
                    scale /= 10
                    i += 1
                }
                guard i > start else { return nil }
            }
        }
        if i == b.count { return within(millis) }
        if b[i] == 0x5A || b[i] == 0x7A {
            return i + 1 == b.count ? within(millis) : nil
        }
        guard b[i] == 0x2B || b[i] == 0x2D, let oh = digits(i + 1, 2) else { return nil }
        var om = 0
        if i + 3 < b.count {
            if b[i + 3] == 0x3A, let m = digits(i + 4, 2), i + 6 == b.count {
                om = m
            } else if let m = digits(i + 3, 2), i + 5 == b.count {
                om = m
            } else {
                return nil
            }
        }
        // Real zone offsets are within ±14:00, with minutes below 60 (`+99:99` is not a zone).
        guard oh <= 14, om < 60, oh * 60 + om <= 14 * 60 else { return nil }
        let offset = Int64(oh * 3600 + om * 60) * 1000
        return within(b[i] == 0x2B ? millis - offset : millis + offset)
    }

    /// A time's whole milliseconds since the epoch, rounded down. A time made from whole milliseconds
    /// (`parse`, or a column's milliseconds divided by 1000) comes back as those milliseconds: a `Date`
    /// counts from 2001 in a double, so near year 9999 it is off by up to 0.03 ms, and rounding down
    /// alone would take a hair below for the millisecond before. Within 0.05 ms of a whole one counts as it.
    public static func millis(_ date: Date) -> Int64 {
        let product = date.timeIntervalSince1970 * 1000
        let nearest = product.rounded()
        return Int64(abs(product - nearest) < 0.05 ? nearest : product.rounded(.down))
    }

    /// The days of `month` in `year` (proleptic Gregorian): 2026-02-31 is not a date.
    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` in UTC (milliseconds always shown, so text order is time order).
    public static func format(_ date: Date) -> String {
        let totalMillis = millis(date)
        let millis = Int(((totalMillis % 1000) + 1000) % 1000)
        let totalSeconds = (totalMillis - Int64(millis)) / 1000
        var days = Int(totalSeconds / 86_400)
        var rest = Int(totalSeconds % 86_400)
        if rest < 0 {
            rest += 86_400
            days -= 1
        }
        let (y, m, d) = civilFromDays(days)
        // Built by hand: String(format:) costs more than the rest of an audit append.
        var out = [UInt8](repeating: 0, count: 24)
        func put(_ value: Int, at offset: Int, width: Int) {
            var v = value
            for i in stride(from: offset + width - 1, through: offset, by: -1) {
                out[i] = UInt8(v % 10) + 0x30
                v /= 10
            }
        }
        put(y, at: 0, width: 4)
        out[4] = 0x2D
        put(m, at: 5, width: 2)
        out[7] = 0x2D
        put(d, at: 8, width: 2)
        out[10] = 0x54
        put(rest / 3600, at: 11, width: 2)
        out[13] = 0x3A
        put(rest % 3600 / 60, at: 14, width: 2)
        out[16] = 0x3A
        put(rest % 60, at: 17, width: 2)
        out[19] = 0x2E
        put(millis, at: 20, width: 3)
        out[23] = 0x5A
        return String(decoding: out, as: UTF8.self)
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`, whole seconds: for files people read.
    public static func formatSeconds(_ date: Date) -> String {
        String(format(date).prefix(19)) + "Z"
    }

    /// `YYYY-MM-DD` of the UTC day.
    public static func day(_ date: Date) -> String {
        String(format(date).prefix(10))
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
