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
        let trimmed = reason.map(Self.trim) ?? ""
        let length = trimmed.count
        if length > maxLength { return "the reason is \(length) characters, at most \(maxLength) allowed" }
        guard required else { return nil }
        guard reason != nil else { return "a reason is required" }
        if trimmed.isEmpty { return "the reason is blank" }
        if !trimmed.unicodeScalars.contains(where: { $0.properties.isAlphabetic || $0.properties.numericType != nil }) {
            return "the reason has no words"
        }
        // Stock phrases are short; only short reasons need the comparison.
        if length <= 40 {
            let key = Self.trimPunctuation(trimmed.lowercased())
            if boilerplate.contains(where: { $0.lowercased() == key }) { return "\"\(trimmed)\" is boilerplate, not a reason" }
        }
        if length < minLength { return "the reason is \(length) characters, at least \(minLength) required" }
        return nil
    }

    /// Whitespace and newlines removed from both ends, without Foundation's bridging.
    static func trim(_ s: String) -> String {
        let scalars = s.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }

    static func trimPunctuation(_ s: String) -> String {
        let scalars = s.unicodeScalars
        func isPunctuation(_ u: Unicode.Scalar) -> Bool {
            switch u.properties.generalCategory {
            case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
                .finalPunctuation, .otherPunctuation: true
            default: false
            }
        }
        guard let first = scalars.firstIndex(where: { !isPunctuation($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !isPunctuation($0) })!
        return String(scalars[first...last])
    }
}
