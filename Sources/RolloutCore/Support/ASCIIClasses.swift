/// The Unicode properties text rules ask of a character, for the 128 ASCII scalars, looked up once from
/// the scalars themselves (so a byte's answer is the scalar's, by construction): rules that meet a
/// million ASCII texts test bytes in a table instead of asking Unicode's tables for every scalar.
public struct ASCIIClasses: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// `properties.isWhitespace`.
    public static let whitespace = ASCIIClasses(rawValue: 1)
    /// `properties.isAlphabetic`, or a numeric type: what makes a text have words.
    public static let wordy = ASCIIClasses(rawValue: 2)
    /// General category punctuation (connector, dash, open, close, initial, final, other).
    public static let punctuation = ASCIIClasses(rawValue: 4)

    /// Each ASCII byte's classes, by its value.
    public static let table: [ASCIIClasses] = (0..<128).map { value in
        let scalar = Unicode.Scalar(UInt8(value))
        var classes: ASCIIClasses = []
        if scalar.properties.isWhitespace { classes.insert(.whitespace) }
        if scalar.properties.isAlphabetic || scalar.properties.numericType != nil { classes.insert(.wordy) }
        if isPunctuation(scalar) { classes.insert(.punctuation) }
        return classes
    }

    /// Whether a scalar's general category is one of punctuation's.
    public static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
            .finalPunctuation, .otherPunctuation: true
        default: false
        }
    }
}
