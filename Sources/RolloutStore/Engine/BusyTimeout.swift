import Foundation

/// How long a writer waits for another process's lock on the store before giving up with
/// `StoreError.busy`, in seconds: `ROLLOUT_BUSY_TIMEOUT`, else 5.
///
/// Only a finite number of seconds above 0 and at most a day is taken. The engines hand it on in
/// milliseconds as fixed-width integers (SQLite's busy timeout, PostgreSQL's `lock_timeout`), where an
/// infinite or huge value trapped the process before it said a word, and a wait of 0 means opposite
/// things (SQLite: never wait; PostgreSQL: wait forever). A value that is not a number, an empty one
/// included, was read as 5 without a word; it is refused now, as every setting rollout does not
/// understand is.
public enum BusyTimeout {
    /// The environment variable that sets it.
    public static let variable = "ROLLOUT_BUSY_TIMEOUT"
    /// The wait when the variable is unset.
    public static let standard: Double = 5
    /// The longest wait taken: a day.
    public static let maximum: Double = 86_400
    /// What a refusal says is taken.
    static let expected = "a number of seconds above 0 and at most \(Int(maximum)) (a day), such as 5 or 0.5"

    /// The wait `ROLLOUT_BUSY_TIMEOUT` asks for.
    public static var fromEnvironment: Double {
        get throws(StoreError) { try parse(ProcessInfo.processInfo.environment[variable]) }
    }

    /// `text` as a wait in seconds (blanks around it ignored), `standard` when nil (an empty value is refused).
    public static func parse(_ text: String?) throws(StoreError) -> Double {
        guard let text else { return standard }
        guard let seconds = Double(text.trimmingCharacters(in: .whitespaces)), isValid(seconds) else {
            throw StoreError.badSetting(variable: variable, value: text, expected: expected)
        }
        return seconds
    }

    /// Whether `seconds` is a wait the engines can take.
    public static func isValid(_ seconds: Double) -> Bool {
        seconds.isFinite && seconds > 0 && seconds <= maximum
    }

    /// The wait a caller gives, or `ROLLOUT_BUSY_TIMEOUT`'s when it gives none; refused when no engine can take it.
    static func resolve(_ given: Double?) throws(StoreError) -> Double {
        guard let seconds = given else { return try fromEnvironment }
        guard isValid(seconds) else { throw StoreError.badSetting(variable: "the busy timeout", value: "\(seconds)", expected: expected) }
        return seconds
    }

    /// `seconds` in whole milliseconds, from 1 (PostgreSQL reads a `lock_timeout` of 0 as no limit) to a
    /// day's: an engine built directly with a wait no store would take still gets one it can.
    public static func milliseconds(_ seconds: Double) -> Int {
        guard seconds > 0 else { return 1 }  // 0, negatives and NaN
        guard seconds < maximum else { return Int(maximum) * 1000 }
        return max(1, Int((seconds * 1000).rounded(.up)))
    }
}
