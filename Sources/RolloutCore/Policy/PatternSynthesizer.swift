/// Makes strings that match a field's `pattern`, so that a baseline call through a field such as
/// `item_id: {pattern: '\d{10}'}` is valid. Understands the regular-expression subset policies use:
/// literals, escapes (`\d \w \s` and escaped punctuation), classes (`[A-Z0-9_]`, negated ones), `.`,
/// groups with alternatives, and the quantifiers `? * + {n} {n,} {n,m}`. Anything else gives nil, and the
/// caller falls back to another value. Deterministic: `index` varies the choices.
public enum PatternSynthesizer {
    public static func string(matching pattern: String, index: Int) -> String? {
        var parser = Parser(Array(pattern.unicodeScalars))
        guard let node = parser.parseAlternatives(), parser.position == parser.scalars.count else { return nil }
        var seed = UInt64(truncatingIfNeeded: abs(index)) &* 0x9E37_79B9_7F4A_7C15 &+ 1
        var out = String.UnicodeScalarView()
        node.generate(into: &out, seed: &seed)
        return String(out)
    }

    indirect enum Node {
        case literal(Unicode.Scalar)
        case set([ClosedRange<UInt32>], negated: Bool)
        case sequence([Node])
        case alternatives([Node])
        case repeated(Node, min: Int, max: Int)

        func generate(into out: inout String.UnicodeScalarView, seed: inout UInt64) {
            switch self {
            case .literal(let c): out.append(c)
            case .set(let ranges, let negated):
                let printable = (0x21...0x7E).compactMap(Unicode.Scalar.init).filter { c in
                    ranges.contains { $0.contains(c.value) } != negated
                }
                if let pick = printable.isEmpty ? nil : printable[Int(next(&seed) % UInt64(printable.count))] { out.append(pick) }
            case .sequence(let nodes): for node in nodes { node.generate(into: &out, seed: &seed) }
            case .alternatives(let options): options[Int(next(&seed) % UInt64(options.count))].generate(into: &out, seed: &seed)
            case .repeated(let node, let min, let max):
                let count = min + Int(next(&seed) % UInt64(Swift.max(max - min + 1, 1)))
                for _ in 0..<count { node.generate(into: &out, seed: &seed) }
            }
        }

        private func next(_ seed: inout UInt64) -> UInt64 {
            seed ^= seed << 13
            seed ^= seed >> 7
            seed ^= seed << 17
            return seed
        }
    }

    struct Parser {
        let scalars: [Unicode.Scalar]
        var position = 0

        init(_ scalars: [Unicode.Scalar]) {
            self.scalars = scalars
        }

        var peek: Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

        mutating func parseAlternatives() -> Node? {
            var options: [Node] = []
            while true {
                guard let sequence = parseSequence() else { return nil }
                options.append(sequence)
                if peek == "|" { position += 1 } else { break }
            }
            return options.count == 1 ? options[0] : .alternatives(options)
        }

        mutating func parseSequence() -> Node? {
            var nodes: [Node] = []
            while let c = peek, c != "|", c != ")" {
                if c == "^" || c == "$" {
                    position += 1
                    continue
                }
                guard let atom = parseAtom() else { return nil }
                guard let quantified = parseQuantifier(atom) else { return nil }
                nodes.append(quantified)
            }
            return .sequence(nodes)
        }

        mutating func parseAtom() -> Node? {
            guard let c = peek else { return nil }
            position += 1
            switch c {
            case "(":
                if peek == "?" {
                    // (?:...) only.
                    guard position + 1 < scalars.count, scalars[position + 1] == ":" else { return nil }
                    position += 2
                }
                guard let inner = parseAlternatives(), peek == ")" else { return nil }
                position += 1
                return inner
            case "[": return parseClass()
            case ".": return .set([0x61...0x7A], negated: false)
            case "\\": return parseEscape(inClass: false).map { .set($0, negated: false) }
            case "*", "+", "?", "{": return nil
            default: return .literal(c)
            }
        }

        mutating func parseEscape(inClass: Bool) -> [ClosedRange<UInt32>]? {
            guard let c = peek else { return nil }
            position += 1
            switch c {
            case "d": return [0x30...0x39]
            case "w": return [0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x5F...0x5F]
            case "s": return [0x20...0x20]
            case "D", "W", "S", "b", "B": return nil
            default:
                guard !c.properties.isAlphabetic && !c.properties.numericType.map({ _ in true }).isTrue else { return nil }
                return [c.value...c.value]
            }
        }

        mutating func parseClass() -> Node? {
            var negated = false
            if peek == "^" {
                negated = true
                position += 1
            }
            var ranges: [ClosedRange<UInt32>] = []
            var first = true
            while let c = peek, c != "]" || first {
                first = false
                position += 1
                var low: UInt32
                if c == "\\" {
                    guard let escaped = parseEscape(inClass: true) else { return nil }
                    if escaped.count != 1 || escaped[0].count != 1 {
                        ranges.append(contentsOf: escaped)
                        continue
                    }
                    low = escaped[0].lowerBound
                } else {
                    low = c.value
                }
                if peek == "-", position + 1 < scalars.count, scalars[position + 1] != "]" {
                    position += 1
                    guard let highScalar = peek else { return nil }
                    position += 1
                    let high = highScalar.value
                    guard high >= low else { return nil }
                    ranges.append(low...high)
                } else {
                    ranges.append(low...low)
                }
            }
            guard peek == "]" else { return nil }
            position += 1
            return .set(ranges, negated: negated)
        }

        mutating func parseQuantifier(_ atom: Node) -> Node? {
            guard let c = peek else { return atom }
            switch c {
            case "?":
                position += 1
                return .repeated(atom, min: 0, max: 1)
            case "*":
                position += 1
                return .repeated(atom, min: 0, max: 3)
            case "+":
                position += 1
                return .repeated(atom, min: 1, max: 3)
            case "{":
                position += 1
                var numbers: [Int?] = [nil]
                var digits = ""
                while let d = peek, d != "}" {
                    position += 1
                    if d == "," {
                        numbers[numbers.count - 1] = Int(digits)
                        numbers.append(nil)
                        digits = ""
                    } else {
                        digits.unicodeScalars.append(d)
                    }
                }
                guard peek == "}" else { return nil }
                position += 1
                numbers[numbers.count - 1] = Int(digits)
                guard let low = numbers[0] else { return nil }
                let high = numbers.count == 1 ? low : (numbers[1] ?? low + 3)
                guard high >= low, high <= 256 else { return nil }
                return .repeated(atom, min: low, max: high)
            default:
                return atom
            }
        }
    }
}

extension Optional where Wrapped == Bool {
    fileprivate var isTrue: Bool { self == true }
}
