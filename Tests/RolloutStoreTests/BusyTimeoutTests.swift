import Foundation
import RolloutTestSupport
import Testing

@testable import RolloutStore

/// `ROLLOUT_BUSY_TIMEOUT` reaches the engines as whole milliseconds in fixed-width integers: an infinite
/// or huge value trapped the process, a word was read as 5 without a word, and 0 meant "never wait" to
/// SQLite but "wait forever" to PostgreSQL. Only a wait both engines take the same way is accepted.
@Suite("Store: busy timeout")
struct BusyTimeoutTests {
    @Test("the setting's text: 5 when unset; a number of seconds above 0 and at most a day", arguments: [
        (nil, 5), ("5", 5), (" 0.5 ", 0.5), ("30", 30), ("86400", 86_400), ("1e-3", 0.001),
    ] as [(String?, Double)])
    func parses(text: String?, seconds: Double) throws {
        #expect(try BusyTimeout.parse(text) == seconds)
    }

    @Test("any other value is refused with the variable and the value named; an empty one too", arguments: ["0", "-1", "inf", "nan", "1e10", "86401", "5s", "abc", "5,5", "", " "])
    func refuses(text: String) {
        #expect {
            try BusyTimeout.parse(text)
        } throws: { error in
            "\(error)".contains("ROLLOUT_BUSY_TIMEOUT=\(text.debugDescription): expected a number of seconds above 0")
        }
    }

    @Test("milliseconds are whole, rounded up, from 1 (PostgreSQL's lock_timeout of 0 is no limit) to a day's, whatever the engine was given", arguments: [
        (0.0001, 1), (0.001, 1), (0.0015, 2), (5, 5000), (86_400, 86_400_000), (0, 1), (-3, 1), (.nan, 1), (.infinity, 86_400_000), (1e300, 86_400_000),
    ] as [(Double, Int)])
    func milliseconds(seconds: Double, expected: Int) {
        #expect(BusyTimeout.milliseconds(seconds) == expected)
    }

    @Test("a store given a wait no engine can take is refused before its file is made", arguments: [Double.infinity, .nan, 0, -2, 1e12])
    func storeRefuses(seconds: Double) {
        let path = TestPaths.temporaryDirectory().appendingPathComponent("audit.sqlite").path
        #expect(throws: StoreError.self) { try AuditStore(path: path, busyTimeout: seconds) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
