extension AuditEvent {
    /// The first member (by its JSON name) whose text an audit row's columns copy and that holds the
    /// character U+0000; nil when none does. The columns are the event's tenant, actor, session, tool,
    /// model, operation, decision, approver, idempotency key and reason, and the names of the fields it
    /// changed (`shape`). PostgreSQL's text holds no NUL: such an event could not be stored there (an
    /// import failed with no line named; a guard's call was refused with no record), and a store moves
    /// between engines, so no store takes one. The body holds any text (JSON writes it `\u0000`).
    public var columnHoldingNUL: String? {
        func holds(_ text: String?) -> Bool { text?.utf8.contains(0) ?? false }
        let members: [(String, String?)] = [
            ("tenant", tenant), ("actor", actor), ("session", session), ("tool", tool), ("model", model), ("operation", operation),
            ("decision", decision), ("approver", approver), ("idempotency_key", idempotencyKey), ("reason", reason),
        ]
        if let (name, _) = members.first(where: { holds($0.1) }) { return name }
        if holds(shape) { return "changes" }
        return nil
    }
}

extension String {
    /// The text with each U+0000 written as U+FFFD, the replacement character: a name an audit row's
    /// column can hold (`AuditEvent.columnHoldingNUL`) that still shows where the NUL was.
    public var withoutNUL: String {
        utf8.contains(0) ? replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : self
    }
}

extension JSONValue {
    /// Whether a string anywhere in the value, or a member's name, holds U+0000.
    public var holdsNUL: Bool {
        switch self {
        case .string(let s): s.utf8.contains(0)
        case .array(let items): items.contains { $0.holdsNUL }
        case .object(let members): members.contains { $0.key.utf8.contains(0) || $0.value.holdsNUL }
        default: false
        }
    }
}
