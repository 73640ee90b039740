/// Text shown to a person (a terminal line, a page) with every character that hides or moves what
/// follows it written as a visible escape, `\u{202e}`: controls but line feed and tab (an escape
/// sequence, a carriage return that overwrites), bidi overrides and isolates (which reorder the rest of
/// a line, so that `"status":"cancelled"` can read as something else), zero-width and other format
/// characters but the joiners scripts need (U+200C, U+200D) and a flag's tag characters, and line and
/// paragraph separators. A soft hyphen and a single directional mark are hidden too, so they are shown. An
/// approver reads an agent's arguments through this; the stored and JSON forms keep the text as it was.
public enum VisibleText {
    public static func escapingInvisibles(_ text: String) -> String {
        escaping(text, where: hides)
    }

    /// `escapingInvisibles`, and line feeds and tabs too: a value printed inside one line (a tool name, a
    /// reason in `audit tail`) cannot start a line of its own that reads as another event.
    public static func oneLine(_ text: String) -> String {
        escaping(text) { $0 == "\n" || $0 == "\t" || hides($0) }
    }

    private static func escaping(_ text: String, where escaped: (Unicode.Scalar) -> Bool) -> String {
        guard text.unicodeScalars.contains(where: escaped) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if escaped(scalar) {
                out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16))}".unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// `s` without its default-ignorable code points (zero-width spaces and joiners, soft hyphens, Hangul
    /// fillers, variation selectors): what a reader sees of it, which minimum lengths and stock phrases count.
    public static func withoutIgnorables(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: { $0.properties.isDefaultIgnorableCodePoint }) else { return s }
        return String(String.UnicodeScalarView(s.unicodeScalars.filter { !$0.properties.isDefaultIgnorableCodePoint }))
    }

    /// Whether `scalar` is escaped by `escapingInvisibles`.
    public static func hides(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return (scalar.value < 0x20 && scalar != "\n" && scalar != "\t") || scalar.value == 0x7F }
        switch scalar.properties.generalCategory {
        case .control, .lineSeparator, .paragraphSeparator: return true
        // The joiners scripts need, and the tag characters that follow a flag's black flag (U+1F3F4): they
        // show as the flag, never as text of their own.
        case .format: return scalar.value != 0x200C && scalar.value != 0x200D && !(0xE0020...0xE007F).contains(scalar.value)
        default: return false
        }
    }
}
