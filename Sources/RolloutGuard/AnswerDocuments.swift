import RolloutCore

/// What an MCP tool result shows, read strictly for a guard that judges it: its structured content and
/// its text content, each as JSON. A read's rules and a lookup decide from these; an answer they cannot
/// read is never judged as "nothing" (a refund rule that reads `lookup.order.status` of a plain-text
/// answer saw null, and the refund it refuses ran).
public enum AnswerDocuments: Equatable, Sendable {
    /// Neither structured content nor any text: the answer shows nothing.
    case empty
    /// One document per way the answer shows itself: its structured content, its text (or each text part,
    /// when the parts are JSON only one by one). The agent may read any of them.
    case documents([JSONValue])
    /// Something the answer shows is not JSON (a text part, a part of another type): why.
    case unreadable(String)

    /// Reads `result` (an MCP `tools/call` result). Blank text parts show nothing and are skipped.
    public init(_ result: JSONValue) {
        var documents: [JSONValue] = []
        if let structured = result["structuredContent"], !structured.isNull { documents.append(structured) }
        var texts: [String] = []
        switch result["content"] {
        case nil, .null?: break
        case .array(let items)?:
            for (index, item) in items.enumerated() {
                let type = item["type"] ?? .string("text")
                guard type == "text" else {
                    self = .unreadable("its content part \(index + 1) is \(type.stringValue.map { "of type \($0)" } ?? "of no type"), not text")
                    return
                }
                guard let text = item["text"]?.stringValue else {
                    self = .unreadable("its content part \(index + 1) holds no text")
                    return
                }
                if !text.allSatisfy(\.isWhitespace) { texts.append(text) }
            }
        case let other?:
            self = .unreadable("its content is \(other.typeNameWithArticle), not a list of parts")
            return
        }
        if !texts.isEmpty {
            // The parts as one document (a document split over parts), else each part as its own.
            if let whole = try? JSONValue.parse(texts.joined(separator: "\n")) {
                documents.append(whole)
            } else {
                for (index, text) in texts.enumerated() {
                    guard let part = try? JSONValue.parse(text) else {
                        self = .unreadable(texts.count == 1 ? "its text is not JSON" : "its text part \(index + 1) of \(texts.count) is not JSON")
                        return
                    }
                    documents.append(part)
                }
            }
        }
        self = documents.isEmpty ? .empty : .documents(documents)
    }

    /// The one state the answer gives (null when it shows nothing), or why there is no one state: a
    /// lookup decides from the state it read, so ways of showing it that disagree are no state at all.
    public var state: Result<JSONValue, AnswerUnreadable> {
        switch self {
        case .empty: return .success(.null)
        case .unreadable(let why): return .failure(AnswerUnreadable(why: why))
        case .documents(let documents):
            guard let first = documents.first else { return .success(.null) }
            if documents.dropFirst().contains(where: { !$0.isIdentical(to: first) }) {
                return .failure(AnswerUnreadable(why: "its \(documents.count) documents (structured content, text parts) are not one state"))
            }
            return .success(first)
        }
    }

    /// Every document a rule must judge (null alone when the answer shows nothing), or why there are none.
    public var judged: Result<[JSONValue], AnswerUnreadable> {
        switch self {
        case .empty: .success([.null])
        case .documents(let documents): .success(documents)
        case .unreadable(let why): .failure(AnswerUnreadable(why: why))
        }
    }
}

/// Why an answer gives no state a guard can decide from.
public struct AnswerUnreadable: Error, Equatable, Sendable {
    public var why: String
}

extension Lookup {
    /// The state this lookup reads from the upstream's answer: the answer's one state, at `select` when it
    /// has one. Nothing at `select` is no state (a present null is one).
    func state(of result: JSONValue) -> Result<JSONValue, AnswerUnreadable> {
        AnswerDocuments(result).state.flatMap { value in
            guard let select else { return .success(value) }
            guard let selected = select.resolve(in: value) else {
                return .failure(AnswerUnreadable(why: "it holds nothing at \(select)"))
            }
            return .success(selected)
        }
    }
}
