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
        guard text.unicodeScalars.contains(where: { escaped($0) || conceals($0) }) else { return text }
        let scalars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        // The last scalar when it was shown as itself and was no variation selector: one may follow it.
        var base: Unicode.Scalar?
        while i < scalars.count {
            let scalar = scalars[i]
            if scalar.value == 0x1F3F4, let end = flagEnd(scalars, from: i) {
                // A subdivision flag (black flag, two to six tag letters or digits, cancel tag): shown as the flag.
                out.append(contentsOf: scalars[i...end])
                i = end + 1
                base = nil
                continue
            }
            let variation = isVariationSelector(scalar)
            let hidden = escaped(scalar) || (variation ? !(base.map { varies(scalar, $0) } ?? false) : conceals(scalar))
            if hidden {
                out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16))}".unicodeScalars)
            } else {
                out.append(scalar)
            }
            base = hidden || variation ? nil : scalar
            i += 1
        }
        return String(out)
    }

    /// Whether `selector` can vary `base` as a reader sees it: an emoji's or a text presentation (U+FE0E,
    /// U+FE0F) after any character; an ideographic variation (U+E0100–E01EF) after a Han character; the
    /// other standard ones (U+FE00–FE0D) after no ASCII or Latin letter; a Mongolian one after a Mongolian
    /// letter. After anything else, a selector shows nothing and can carry a byte nobody sees.
    private static func varies(_ selector: Unicode.Scalar, _ base: Unicode.Scalar) -> Bool {
        switch selector.value {
        case 0xFE0E, 0xFE0F: true
        case 0xE0100...0xE01EF: base.properties.isIdeographic
        case 0xFE00...0xFE0D: base.value > 0x24F
        default: (0x1800...0x18AF).contains(base.value)
        }
    }

    /// Where the subdivision flag that starts at `start` (a black flag, U+1F3F4) ends: at its cancel tag,
    /// after two to six tag letters or digits. Nil when what follows is no such flag.
    private static func flagEnd(_ scalars: [Unicode.Scalar], from start: Int) -> Int? {
        var i = start + 1
        while i < scalars.count, i - start <= 6 {
            let v = scalars[i].value
            guard (0xE0030...0xE0039).contains(v) || (0xE0061...0xE007A).contains(v) else { break }
            i += 1
        }
        let letters = i - start - 1
        guard (2...6).contains(letters), i < scalars.count, scalars[i].value == 0xE007F else { return nil }
        return i
    }

    /// The tag characters (U+E0020–U+E007F): shown as part of a flag, and as nothing anywhere else, where
    /// they can spell out text a reader does not see.
    private static func isTag(_ scalar: Unicode.Scalar) -> Bool { (0xE0020...0xE007F).contains(scalar.value) }

    /// Variation selectors (U+FE00–FE0F, U+E0100–E01EF, the Mongolian ones): one after a character it
    /// varies is shown with it (an emoji's presentation); any other carries what nobody sees.
    private static func isVariationSelector(_ scalar: Unicode.Scalar) -> Bool {
        (0xFE00...0xFE0F).contains(scalar.value) || (0xE0100...0xE01EF).contains(scalar.value) || (0x180B...0x180F).contains(scalar.value)
    }

    /// Characters shown as escapes wherever they stand, beyond `hides`: those that show nothing
    /// (`showsNothing`) but the joiners scripts and emoji need (U+200C, U+200D) and variation selectors,
    /// which are judged by what precedes them; tag characters outside a flag are among them.
    private static func conceals(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value == 0x200C || scalar.value == 0x200D { return false }
        return isVariationSelector(scalar) || showsNothing(scalar) || isTag(scalar)
    }

    /// `s` without the characters that show nothing (`showsNothing`): what a reader sees of it, which
    /// minimum lengths and stock phrases count.
    public static func withoutUnseen(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: showsNothing) else { return s }
        return String(String.UnicodeScalarView(s.unicodeScalars.filter { !showsNothing($0) }))
    }

    /// How many characters a reader sees in `s`: those that show nothing left out, a run of whitespace
    /// read as one space, a wide character (`isWide`) as two, and text of only whitespace as none. A minimum length counts this, so neither
    /// blank-looking characters nor spaces pad a value or a reason to it.
    public static func seenLength(_ s: String) -> Int {
        var length = 0, inGap = false, anyShown = false
        for character in withoutUnseen(s) {
            if character.unicodeScalars.first!.properties.isWhitespace {
                if !inGap { length += 1 }
                inGap = true
            } else {
                length += isWide(character.unicodeScalars.first!) ? 2 : 1
                inGap = false
                anyShown = true
            }
        }
        return anyShown ? length : 0
    }

    /// Letters of the scripts a terminal shows two columns wide, each word in a few of them: Han, kana,
    /// Hangul, Yi (not their punctuation, nor fullwidth Latin, which spells what Latin spells). A minimum counts them as two, so that a Japanese reason of ten
    /// characters ("顧客の依頼で返金処理") is not held short of a minimum set for Latin words. Emoji are
    /// not among them: they would pad a reason.
    static func isWide(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x1100...0x115F, 0x3041...0x30FF, 0x3105...0x318E, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF, 0xAC00...0xD7A3,
             0xF900...0xFAFF, 0x20000...0x2FFFD, 0x30000...0x3FFFD: scalar.properties.isAlphabetic
        default: false
        }
    }

    /// Characters that show nothing of their own: default-ignorable code points (zero-width spaces and
    /// joiners, soft hyphens, Hangul fillers, variation selectors), controls but whitespace, format characters
    /// but the marks written before digits, the blank braille pattern (U+2800), the null notehead (U+1D159),
    /// the object replacement character (U+FFFC), private-use code points and code points not yet assigned.
    public static func showsNothing(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return (scalar.value < 0x20 && !scalar.properties.isWhitespace) || scalar.value == 0x7F }
        if scalar.properties.isDefaultIgnorableCodePoint || scalar.value == 0x2800 || scalar.value == 0xFFFC || scalar.value == 0x1D159 { return true }
        switch scalar.properties.generalCategory {
        case .privateUse, .unassigned, .surrogate: return true
        // Controls but whitespace (NEL is one), and format characters but the marks written before digits,
        // which show (U+0600–0605, U+06DD, U+070F, U+0890–0891, U+08E2, U+110BD, U+110CD).
        case .control: return !scalar.properties.isWhitespace
        case .format: return !prependedMarks.contains(scalar.value)
        default: return false
        }
    }

    private static let prependedMarks: Set<UInt32> = [0x600, 0x601, 0x602, 0x603, 0x604, 0x605, 0x6DD, 0x70F, 0x890, 0x891, 0x8E2, 0x110BD, 0x110CD]

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
