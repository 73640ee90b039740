import Foundation
import RolloutCore

/// Escaping for text and attribute values in the report's HTML and SVG (and `rollout serve`'s pages):
/// markup characters as entities, and what hides or reorders text shown to a person (`VisibleText`) as a
/// visible escape.
public enum HTMLText {
    /// Escapes by code point: a `Character` is a grapheme cluster, and `<` after a prepended letter (U+0D4E) or
    /// before a combining mark (U+0301) is a cluster that equals no `<`, yet reaches the page as the byte `<`.
    public static func escape(_ s: String) -> String {
        let s = VisibleText.escapingInvisibles(s)
        var out = String.UnicodeScalarView()
        for u in s.unicodeScalars {
            switch u {
            case "&": out.append(contentsOf: "&amp;".unicodeScalars)
            case "<": out.append(contentsOf: "&lt;".unicodeScalars)
            case ">": out.append(contentsOf: "&gt;".unicodeScalars)
            case "\"": out.append(contentsOf: "&quot;".unicodeScalars)
            case "'": out.append(contentsOf: "&#39;".unicodeScalars)
            default: out.append(u)
            }
        }
        return String(out)
    }
}
