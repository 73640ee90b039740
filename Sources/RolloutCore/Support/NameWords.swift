/// The lower-cased words of an identifier, split on anything but letters and digits and on case
/// changes (`orderArchive` is order, archive; `total_baggages` is total, baggages): how field names are
/// matched to money or roles by whole words, and tool names to verbs.
public enum NameWords {
    public static func split(_ name: String) -> [String] {
        var words: [String] = []
        var current = ""
        var previousLower = false
        for c in name {
            if !c.isLetter && !c.isNumber {
                if !current.isEmpty { words.append(current.lowercased()) }
                current = ""
                previousLower = false
                continue
            }
            if c.isUppercase && previousLower {
                words.append(current.lowercased())
                current = ""
            }
            current.append(c)
            previousLower = c.isLowercase
        }
        if !current.isEmpty { words.append(current.lowercased()) }
        return words
    }
}
