/// Which events' `fields_changed` the scorer reads: executed writes whose shape (the changed fields'
/// names) contains one of the value words, as SQL's `decision IN (...) AND instr(shape, ?) > 0` would
/// say, byte for byte. Agents write few shapes, so each shape's answer is remembered (up to 64).
struct ValueFieldFilter {
    /// The decisions of executed writes, as stored.
    static let decisions = ["executed", "allowed", "rolled_back"]
    private static let decisionBytes = decisions.map { Array($0.utf8) }
    private let words: [[UInt8]]
    private var known: [(shape: [UInt8], wanted: Bool)] = []

    init(words: [String]) {
        self.words = words.map { Array($0.utf8) }
    }

    mutating func wants(decision: UnsafeRawBufferPointer?, shape: UnsafeRawBufferPointer?) -> Bool {
        guard !words.isEmpty, let decision, let shape, Self.decisionBytes.contains(where: { Self.equal($0, decision) }) else { return false }
        for entry in known where Self.equal(entry.shape, shape) { return entry.wanted }
        let wanted = words.contains { Self.contains(shape, $0) }
        if known.count < 64 { known.append((Array(shape), wanted)) }
        return wanted
    }

    private static func equal(_ a: [UInt8], _ b: UnsafeRawBufferPointer) -> Bool {
        a.count == b.count && a.withUnsafeBytes { $0.elementsEqual(b) }
    }

    /// Whether `word` occurs in `text` (an empty word occurs everywhere, as `instr` finds it at 1).
    static func contains(_ text: UnsafeRawBufferPointer, _ word: [UInt8]) -> Bool {
        guard !word.isEmpty else { return true }
        guard text.count >= word.count else { return false }
        for start in 0...(text.count - word.count) where text[start] == word[0] {
            var k = 1
            while k < word.count, text[start + k] == word[k] { k += 1 }
            if k == word.count { return true }
        }
        return false
    }
}
