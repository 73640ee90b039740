import Foundation

/// What counts as a real reason for a write. A reason that is missing, blank, too short, only
/// punctuation or a stock phrase ("n/a", "test", "as requested") is refused when reasons are required.
public struct ReasonRule: Sendable, Hashable {
    public var required: Bool
    public var minLength: Int
    public var maxLength: Int
    /// Stock phrases refused as reasons, compared case-insensitively after trimming.
    public var boilerplate: [String]

    public static let defaultBoilerplate = [
        "n/a", "na", "none", "null", "nil", "test", "testing", "todo", "tbd", "fix", "update", "change",
        "because", "reason", "no reason", "as requested", "requested", "user asked", "asked", "ok", "done",
        "asdf", "xxx", "-", "...", "?", "see above", "misc",
    ]

    public init(required: Bool = true, minLength: Int = 8, maxLength: Int = 2_000, boilerplate: [String] = defaultBoilerplate) {
        self.required = required
        self.minLength = minLength
        self.maxLength = maxLength
        self.boilerplate = boilerplate
    }

    /// Why `reason` is not acceptable, or nil. When reasons are optional only the length limit applies.
    public func problem(with reason: String?) -> String? {
        let trimmed = reason?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if trimmed.count > maxLength { return "the reason is \(trimmed.count) characters, at most \(maxLength) allowed" }
        guard required else { return nil }
        guard reason != nil else { return "a reason is required" }
        if trimmed.isEmpty { return "the reason is blank" }
        if !trimmed.contains(where: { $0.isLetter || $0.isNumber }) { return "the reason has no words" }
        let lower = trimmed.lowercased().trimmingCharacters(in: .punctuationCharacters)
        if boilerplate.contains(where: { $0.lowercased() == lower }) { return "\"\(trimmed)\" is boilerplate, not a reason" }
        if trimmed.count < minLength { return "the reason is \(trimmed.count) characters, at least \(minLength) required" }
        return nil
    }
}
