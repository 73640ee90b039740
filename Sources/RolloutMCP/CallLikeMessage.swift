import RolloutCore

/// A JSON-RPC message that is not `tools/call` but may have been meant as one: a method that reads as
/// `tools/call` once case, blanks, controls and invisible characters are set aside (`Tools/Call`,
/// `tools/call `, `tools/call\u{0}`), or any method whose params have a call's shape (a tool name and
/// arguments). The guard runs no such message, and records its refusal: every refusal of what may be a
/// call is in the log, as a batch's or a notification's is.
enum CallLikeMessage {
    static func resemblesCall(method: String, params: JSONValue?) -> Bool {
        if params?["name"]?.stringValue != nil, params?["arguments"] != nil { return true }
        let folded = String(String.UnicodeScalarView(method.unicodeScalars.filter { scalar in
            !(scalar.properties.isWhitespace || scalar.properties.generalCategory == .control
              || scalar.properties.generalCategory == .format || scalar.properties.isDefaultIgnorableCodePoint)
        })).lowercased()
        return folded == "tools/call"
    }

    /// The refusal's words: the method as sent (shown escaped) and the tool it names.
    static func refusal(method: String, params: JSONValue?, notification: Bool) -> String {
        let tool = params?["name"]?.stringValue.map { " naming \(VisibleText.oneLine($0))" } ?? ""
        let kind = notification ? "a notification" : "a request"
        return "\(kind) with method \"\(VisibleText.oneLine(method))\"\(tool) was refused: only tools/call, spelled exactly, runs a tool; nothing was forwarded"
    }
}
