import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

/// RFC 3339 times as the store keeps them: text and milliseconds that always agree, within years 0001-9999.
@Suite("Timestamps: text and milliseconds agree")
struct TimestampTests {
    @Test("times outside years 0001 to 9999 once their zone is applied are not times (found by an adversarial review: one crashed the import)",
          arguments: ["0000-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0000-12-31T23:59:59Z"])
    func outOfRange(_ text: String) {
        #expect(Timestamp.parse(text) == nil)
    }

    @Test("the ends of the range, and digits past the millisecond, which are dropped", arguments: [
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z", -62_135_596_800_000 as Int64),
        ("9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z", 253_402_300_799_999),
        ("1969-12-31T23:59:59.9995Z", "1969-12-31T23:59:59.999Z", -1),
        ("2026-11-29T04:00:00.1239+01:00", "2026-11-29T03:00:00.123Z", 1_795_921_200_123),
    ])
    func ends(_ text: String, _ formatted: String, _ millis: Int64) throws {
        let date = try #require(Timestamp.parse(text))
        #expect(Timestamp.format(date) == formatted)
        #expect(Timestamp.millis(date) == millis)
    }

    @Test("any millisecond of the range: its text parses back to it, and its date gives it back")
    func roundTrip() throws {
        var random = SeededRandom(seed: 19)
        for _ in 0..<200_000 {
            let ms = -62_135_596_800_000 + Int64(random.next() % 315_537_897_600_000)
            let date = Date(timeIntervalSince1970: Double(ms) / 1000)
            #expect(Timestamp.millis(date) == ms, "\(ms)")
            let text = Timestamp.format(date)
            #expect(try #require(Timestamp.parse(text)).timeIntervalSince1970 == date.timeIntervalSince1970, "\(text)")
        }
    }
}
