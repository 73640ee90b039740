/// Text shown to a person (a terminal line, a page) with every character that hides or moves what
/// follows it written as a visible escape, `\u{202e}`: controls but line feed and tab (an escape
/// sequence, a carriage return that overwrites), bidi overrides and isolates (which reorder the rest of
/// a line, so that `"status":"cancelled"` can read as something else), line and paragraph separators, and
/// whatever shows nothing (zero-width and format characters, fillers, private-use and unassigned code
/// points), but for what a reader does see: a joiner between emoji or letters of a script that joins, an
/// emoji's presentation selector, the tags of England's, Scotland's and Wales's flags. Anywhere else such
/// characters can spell a message nobody sees. A soft hyphen and a single directional mark are hidden too,
/// so they are shown. An approver reads an agent's arguments through this; the stored and JSON forms keep
/// the text as it was.
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
        guard text.unicodeScalars.contains(where: { escaped($0) || conceals($0) || isJoiner($0) }) else { return text }
        let scalars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        // The last scalar shown as itself (nil after an escape): what a selector or a joiner follows.
        var previous: Unicode.Scalar?
        while i < scalars.count {
            let scalar = scalars[i]
            if scalar.value == 0x1F3F4, let end = flagEnd(scalars, from: i) {
                // England's, Scotland's or Wales's flag: shown as the flag.
                out.append(contentsOf: scalars[i...end])
                i = end + 1
                previous = scalars[end]
                continue
            }
            let next = i + 1 < scalars.count ? scalars[i + 1] : nil
            let hidden: Bool
            if escaped(scalar) {
                hidden = true
            } else if isVariationSelector(scalar) {
                hidden = !(previous.map { varies(scalar, $0, next: next) } ?? false)
            } else if isJoiner(scalar) {
                hidden = !(previous.map(joins) ?? false) || !(next.map(joins) ?? false)
            } else {
                hidden = conceals(scalar)
            }
            if hidden {
                out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16))}".unicodeScalars)
            }
            else {
                out.append(scalar)
            }
            previous = hidden ? nil : scalar
            i += 1
        }
        return String(out)
    }

    /// Whether `selector` varies `base` as a reader sees it: an emoji's or a text presentation (U+FE0E,
    /// U+FE0F) after an emoji (after a digit, `#` or `*` only as a keycap, before U+20E3), and a Mongolian
    /// one after a Mongolian letter. Every other selector is shown as an escape: after a character it does
    /// not vary it shows nothing and carries a byte nobody sees, and the ideographic and other standard ones
    /// (U+E0100–E01EF, U+FE00–FE0D), registered character by character, are told by the escape too.
    private static func varies(_ selector: Unicode.Scalar, _ base: Unicode.Scalar, next: Unicode.Scalar?) -> Bool {
        switch selector.value {
        case 0xFE0E, 0xFE0F: base.properties.isEmoji && (!base.isASCII || (selector.value == 0xFE0F && next?.value == 0x20E3))
        case 0x180B...0x180D, 0x180F: (0x1820...0x18AF).contains(base.value)
        default: false
        }
    }

    /// The zero-width joiner and non-joiner (U+200D, U+200C).
    private static func isJoiner(_ scalar: Unicode.Scalar) -> Bool { scalar.value == 0x200C || scalar.value == 0x200D }

    /// Whether a joiner beside `scalar` does what joiners are for: between emoji (a family, a rainbow
    /// flag; after an emoji's presentation selector), or between letters and marks of the scripts that
    /// join (Arabic, Syriac and their neighbours, the Indic scripts, Tibetan, Myanmar, Khmer, Mongolian).
    /// Anywhere else (Latin text, another joiner, a space) a joiner shows nothing, and a run of them can
    /// spell a hidden message.
    private static func joins(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII || isJoiner(scalar) { return false }
        if scalar.properties.isEmoji || scalar.value == 0xFE0F { return true }
        switch scalar.value {
        case 0x0600...0x08FF, 0x0900...0x0DFF, 0x0F00...0x0FFF, 0x1000...0x109F, 0x1780...0x18AF, 0xA8E0...0xA8FF, 0xFB50...0xFDFF, 0xFE70...0xFEFF:
            let category = scalar.properties.generalCategory
            return scalar.properties.isAlphabetic || category == .nonspacingMark || category == .spacingMark
        default: return false
        }
    }

    /// Where the subdivision flag that starts at `start` (a black flag, U+1F3F4) ends: at its cancel tag.
    /// Only the flags recommended for display (England, Scotland, Wales: `gbeng`, `gbsct`, `gbwls`) are
    /// flags; any other tag letters after a black flag spell what nobody sees.
    private static func flagEnd(_ scalars: [Unicode.Scalar], from start: Int) -> Int? {
        for tags in ["gbeng", "gbsct", "gbwls"] {
            let end = start + tags.unicodeScalars.count + 1
            guard end < scalars.count, scalars[end].value == 0xE007F else { continue }
            if zip(scalars[(start + 1)..<end], tags.unicodeScalars).allSatisfy({ $0.value == $1.value + 0xE0000 }) { return end }
        }
        return nil
    }

    /// The tag characters (U+E0020–U+E007F): shown as part of a flag, and as nothing anywhere else, where
    /// they can spell out text a reader does not see.
    private static func isTag(_ scalar: Unicode.Scalar) -> Bool { (0xE0020...0xE007F).contains(scalar.value) }

    /// Variation selectors (U+FE00–FE0F, U+E0100–E01EF, the Mongolian ones): one after a character it
    /// varies is shown with it (an emoji's presentation); any other carries what nobody sees.
    private static func isVariationSelector(_ scalar: Unicode.Scalar) -> Bool {
        (0xFE00...0xFE0F).contains(scalar.value) || (0xE0100...0xE01EF).contains(scalar.value) || (0x180B...0x180F).contains(scalar.value)
    }

    /// Characters shown as escapes, beyond `hides`: those that show nothing (`showsNothing`) but the
    /// joiners (U+200C, U+200D) and variation selectors, which are judged by what stands beside them; tag
    /// characters outside a flag are among them.
    private static func conceals(_ scalar: Unicode.Scalar) -> Bool {
        if isJoiner(scalar) { return false }
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
