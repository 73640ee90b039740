import Foundation

/// How a person's name is compared: approvers, promoters and requesters are people who type their
/// names, so `Maria.Lopez`, ` maria.lopez` and `ｍａｒｉａ.lopez` are one person. Four-eyes rules compare
/// normalised names; tenants and subjects are identifiers and compare exactly.
///
/// The form is built to err towards "the same person" (a four-eyes rule then refuses): compatibility
/// decomposition (NFKD), every invisible or default-ignorable character, space and control removed,
/// every combining mark removed (`MARİA` is `maria`), case folded, and the Cyrillic and Greek letters
/// that look like Latin ones read as those (`mаria` with a Cyrillic а is `maria`), and every dash (the
/// hyphens U+2010 and U+2011, en and em dashes, the minus sign) read as `-`; for four-eyes, a letter
/// beyond ASCII that no rule maps matches any letter (`couldBeSame`).
public enum PersonIdentity {
    /// The form two names are compared in.
    public static func normalize(_ name: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in name.decomposedStringWithCompatibilityMapping.lowercased().decomposedStringWithCompatibilityMapping.unicodeScalars {
            let properties = scalar.properties
            if properties.isDefaultIgnorableCodePoint || properties.isWhitespace { continue }
            switch properties.generalCategory {
            case .nonspacingMark, .spacingMark, .enclosingMark, .control, .format, .spaceSeparator, .lineSeparator, .paragraphSeparator:
                continue
            default:
                break
            }
            if properties.generalCategory == .dashPunctuation || scalar.value == 0x2212 {
                scalars.append("-")
            } else if let latin = lookalikes[scalar] ?? latinLetter(scalar) {
                scalars.append(latin)
            } else {
                scalars.append(scalar)
            }
        }
        return String(scalars).folding(options: [.caseInsensitive], locale: nil)
    }

    /// Whether two names are the same person: their forms are equal. What an allow-list asks (is this
    /// an approver?), so a look-alike the table does not map is not let in.
    public static func same(_ a: String, _ b: String) -> Bool {
        normalize(a) == normalize(b)
    }

    /// Whether two names could be one person: the same, or differing only where one holds a letter
    /// beyond ASCII that the table does not map (one or two such places, fewer than half the name). No
    /// list of look-alikes is complete (`dev.pateӏ` with a Cyrillic palochka); a four-eyes rule asks
    /// this, so that a name that could be a spelling of the other is refused rather than trusted.
    public static func couldBeSame(_ a: String, _ b: String) -> Bool {
        // `maria_lopez`, `maria-lopez`, `maria+lopez`, `marialopez` and `maria..lopez` could be one person's spellings
        // too: only letters and digits tell two names apart. A symbol beyond ASCII may be drawn as a letter
        // (`dev.pate∣`), so the names are also compared with only the ASCII separators left out.
        let x = normalize(a).unicodeScalars, y = normalize(b).unicodeScalars
        func lettersOnly(_ s: Unicode.Scalar) -> Bool { s.properties.isAlphabetic || s.properties.numericType != nil }
        func notSeparator(_ s: Unicode.Scalar) -> Bool { !separators.contains(s) }
        return spellingsAgree(x.filter(lettersOnly), y.filter(lettersOnly)) || spellingsAgree(x.filter(notSeparator), y.filter(notSeparator))
    }

    /// What separates the parts of a name: left out when asking whether two names could be one person's.
    static let separators: Set<Unicode.Scalar> = [".", "_", "-", " "]

    /// Equal, or differing only in one or two places (fewer than half) where one holds a scalar beyond ASCII.
    static func spellingsAgree(_ x: [Unicode.Scalar], _ y: [Unicode.Scalar]) -> Bool {
        if x == y { return true }
        guard x.count == y.count else { return false }
        var unmapped = 0
        for (p, q) in zip(x, y) where p != q {
            guard !p.isASCII || !q.isASCII else { return false }
            unmapped += 1
        }
        return unmapped <= 2 && 2 * unmapped < x.count
    }

    /// The ASCII letter a Latin letter beyond ASCII is a form of, by its Unicode name: `LATIN LETTER SMALL
    /// CAPITAL M` (ᴍ), `LATIN SMALL LETTER DOTLESS J`, `LATIN SMALL LETTER SCRIPT G`. Small capitals and
    /// the other letters of the phonetic blocks have no decomposition, and read as the letter they are drawn as.
    static func latinLetter(_ scalar: Unicode.Scalar) -> Unicode.Scalar? {
        guard !scalar.isASCII, let name = scalar.properties.name, name.hasPrefix("LATIN ") else { return nil }
        let words = name.split(separator: " ")
        guard let letter = words.firstIndex(of: "LETTER") else { return nil }
        let shapes: Set<Substring> = ["SMALL", "CAPITAL", "DOTLESS", "SCRIPT", "CLOSED", "OPEN", "REVERSED", "TURNED", "BARRED", "SIDEWAYS", "INVERTED", "MODIFIER"]
        for word in words[(letter + 1)...] {
            if word.count == 1, let c = word.unicodeScalars.first, ("A"..."Z").contains(c) { return Unicode.Scalar(c.value + 32) }
            if !shapes.contains(word) { return nil }
        }
        return nil
    }

    /// Lower-case Cyrillic and Greek letters (and a few Latin variants) drawn like Latin ones.
    static let lookalikes: [Unicode.Scalar: Unicode.Scalar] = {
        let pairs: [(UInt32, Character)] = [
            (0x0430, "a"), (0x0435, "e"), (0x043E, "o"), (0x0440, "p"), (0x0441, "c"), (0x0443, "y"), (0x0445, "x"),
            (0x0456, "i"), (0x0458, "j"), (0x0455, "s"), (0x0501, "d"), (0x04BB, "h"), (0x051B, "q"), (0x051D, "w"),
            (0x03BF, "o"), (0x03B1, "a"), (0x03BD, "v"), (0x03C1, "p"), (0x03B9, "i"), (0x03BA, "k"), (0x03C5, "u"),
            (0x0131, "i"), (0x0261, "g"), (0x2024, "."), (0x2027, "."), (0x00B7, "."),
            (0x04CF, "l"), (0x0251, "a"), (0x043A, "k"), (0x0585, "o"), (0x0269, "i"), (0x01C0, "l"),
        ]
        var map: [Unicode.Scalar: Unicode.Scalar] = [:]
        for (code, latin) in pairs { map[Unicode.Scalar(code)!] = latin.unicodeScalars.first! }
        return map
    }()
}
