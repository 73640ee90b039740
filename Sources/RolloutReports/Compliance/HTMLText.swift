import Foundation
import RolloutCore

/// Escaping for text and attribute values in the report's HTML and SVG (and `rollout serve`'s pages):
/// markup characters as entities, and what hides or reorders text shown to a person (`VisibleText`) as a
/// visible escape.
public enum HTMLText {
    public static func escape(_ s: String) -> String {
        let s = VisibleText.escapingInvisibles(s)
        var out = ""
        out.reserveCapacity(s.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
