/// Text shown to a person (a terminal line, a page) with every character that hides or moves what
/// follows it written as a visible escape, `\u{202e}`: controls but line feed and tab (an escape
/// sequence, a carriage return that overwrites), bidi overrides and isolates (which reorder the rest of
/// a line, so that `"status":"cancelled"` can read as something else), zero-width and other format
/// characters but the joiners scripts need (U+200C, U+200D) and the tag characters of a flag (after its
/// black flag, U+1F3F4; anywhere else they carry text nobody sees), and line and
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
        guard text.unicodeScalars.contains(where: { escaped($0) || isTag($0) }) else { return text }
        var out = String.UnicodeScalarView()
        // Within a flag's tag sequence: after its black flag, up to its cancel tag.
        var inFlag = false
        for scalar in text.unicodeScalars {
            let tag = isTag(scalar)
            if escaped(scalar) || (tag && !inFlag) {
                out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16))}".unicodeScalars)
            } else {
                out.append(scalar)
            }
            inFlag = scalar.value == 0x1F3F4 || (tag && inFlag && scalar.value != 0xE007F)
        }
        return String(out)
    }

    /// The tag characters (U+E0020–U+E007F): shown as part of a flag after a black flag, and as nothing
    /// anywhere else, where they can spell out text a reader does not see.
    private static func isTag(_ scalar: Unicode.Scalar) -> Bool { (0xE0020...0xE007F).contains(scalar.value) }

    /// `s` without the characters that show nothing (`showsNothing`): what a reader sees of it, which
    /// minimum lengths and stock phrases count.
    public static func withoutUnseen(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: showsNothing) else { return s }
        return String(String.UnicodeScalarView(s.unicodeScalars.filter { !showsNothing($0) }))
    }

    /// How many characters a reader sees in `s`: those that show nothing left out, a run of whitespace
    /// read as one space, and text of only whitespace as none. A minimum length counts this, so neither
    /// blank-looking characters nor spaces pad a value or a reason to it.
    public static func seenLength(_ s: String) -> Int {
        var length = 0, inGap = false, anyShown = false
        for character in withoutUnseen(s) {
            if character.unicodeScalars.first!.properties.isWhitespace {
                if !inGap { length += 1 }
                inGap = true
            } else {
                length += 1
                inGap = false
                anyShown = true
            }
        }
        return anyShown ? length : 0
    }

    /// Characters that show nothing of their own: default-ignorable code points (zero-width spaces and
    /// joiners, soft hyphens, Hangul fillers, variation selectors), the blank braille pattern (U+2800), the
    /// object replacement character (U+FFFC), private-use code points and code points not yet assigned.
    public static func showsNothing(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return false }
        if scalar.properties.isDefaultIgnorableCodePoint || scalar.value == 0x2800 || scalar.value == 0xFFFC { return true }
        switch scalar.properties.generalCategory {
        case .privateUse, .unassigned: return true
        default: return false
        }
    }

    /// Whether `scalar` is escaped by `escapingInvisibles` wherever it stands (a tag character is escaped
    /// too, unless it continues a flag).
    public static func hides(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return (scalar.value < 0x20 && scalar != "\n" && scalar != "\t") || scalar.value == 0x7F }
        switch scalar.properties.generalCategory {
        case .control, .lineSeparator, .paragraphSeparator: return true
        // The joiners scripts need; the tag characters are judged by what precedes them (`escaping`).
        case .format: return scalar.value != 0x200C && scalar.value != 0x200D && !(0xE0020...0xE007F).contains(scalar.value)
        default: return false
        }
    }
}
