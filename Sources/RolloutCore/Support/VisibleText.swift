/// Text shown to a person (a terminal line, a page) with every character that hides or moves what
/// follows it written as a visible escape, `\u{202e}`: controls but line feed and tab (an escape
/// sequence, a carriage return that overwrites), bidi overrides and isolates (which reorder the rest of
/// a line, so that `"status":"cancelled"` can read as something else), zero-width and other format
/// characters but the joiners scripts need (U+200C, U+200D), and line and paragraph separators. An
/// approver reads an agent's arguments through this; the stored and JSON forms keep the text as it was.
public enum VisibleText {
    public static func escapingInvisibles(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: hides) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if hides(scalar) {
                out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16))}".unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// Whether `scalar` is escaped by `escapingInvisibles`.
    public static func hides(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return (scalar.value < 0x20 && scalar != "\n" && scalar != "\t") || scalar.value == 0x7F }
        switch scalar.properties.generalCategory {
        case .control, .lineSeparator, .paragraphSeparator: return true
        case .format: return scalar.value != 0x200C && scalar.value != 0x200D
        default: return false
        }
    }
}
