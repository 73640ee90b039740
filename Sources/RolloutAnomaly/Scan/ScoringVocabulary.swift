import RolloutCore

/// The texts of one scoring pass (actors, tools, operations, decisions, approvers, shapes) as ids, each
/// with what the rules ask of it worked out once: a decision's category, whether an operation deletes.
struct ScoringVocabulary {
    private var texts = TextInterner()
    private var facts: [Facts] = []

    /// What the rules ask of a text, by its role.
    struct Facts {
        var category: DecisionCategory
        var isIdempotencyConflict: Bool
        var isPendingApproval: Bool
        var isDelete: Bool
    }

    /// The id of a text read from the store.
    @inline(__always)
    mutating func id(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        let id = texts.id(bytes)
        if Int(id) == facts.count {
            let name = texts.names[Int(id)]
            facts.append(Facts(category: DecisionCategory(decision: name),
                               isIdempotencyConflict: name == DecisionCode.idempotencyConflict.rawValue,
                               isPendingApproval: name == DecisionCode.pendingApproval.rawValue,
                               isDelete: name == "delete"))
        }
        return id
    }

    func name(_ id: Int32) -> String { texts.names[Int(id)] }

    func facts(_ id: Int32) -> Facts { facts[Int(id)] }
}
