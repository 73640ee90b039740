import Foundation

/// How a person's name is compared: approvers, promoters and requesters are people who type their
/// names, so `Maria.Lopez`, ` maria.lopez` and `ｍａｒｉａ.lopez` are one person. Four-eyes rules compare
/// normalised names (Unicode NFKC, case folded, trimmed); tenants and subjects are identifiers and
/// compare exactly.
public enum PersonIdentity {
    /// The form two names are compared in.
    public static func normalize(_ name: String) -> String {
        let compatible = name.precomposedStringWithCompatibilityMapping
        let folded = compatible.folding(options: [.caseInsensitive], locale: nil)
        // Folding can leave text that NFKC composes differently; normalise again, then trim.
        return folded.precomposedStringWithCompatibilityMapping.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Whether two names are the same person.
    public static func same(_ a: String, _ b: String) -> Bool {
        normalize(a) == normalize(b)
    }
}
