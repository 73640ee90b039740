import Foundation

/// Text made safe for XML 1.0 before libxml2 escapes it: ANSI colour sequences removed, characters
/// that XML 1.0 forbids (most control characters, lone surrogates, U+FFFE/U+FFFF) dropped.
enum XMLText {
    static func clean(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var scalars = text.unicodeScalars.makeIterator()
        while let scalar = scalars.next() {
            if scalar == "\u{1B}" {
                // Skip a CSI sequence: ESC [ parameters final-byte.
                var next = scalars.next()
                if next == "[" {
                    next = scalars.next()
                    while let n = next, !(0x40...0x7E).contains(n.value) { next = scalars.next() }
                }
                continue
            }
            if isAllowed(scalar) { out.append(scalar) }
        }
        return String(out)
    }

    /// One line: newlines and tabs become spaces, for `message` attributes.
    static func oneLine(_ text: String) -> String {
        let cleaned = clean(text)
        var out = ""
        var lastWasSpace = false
        for c in cleaned {
            let isBreak = c == "\n" || c == "\r" || c == "\r\n" || c == "\t"
            if isBreak || c == " " {
                if !lastWasSpace { out.append(" ") }
                lastWasSpace = true
            } else {
                out.append(c)
                lastWasSpace = false
            }
        }
        return out.trimmingCharacters(in: .whitespaces)
    }

    static func isAllowed(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x9, 0xA, 0xD: true
        case 0x20...0xD7FF: true
        case 0xE000...0xFFFD: true
        case 0x10000...0x10FFFF: true
        default: false
        }
    }
}
