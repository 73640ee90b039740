import RolloutCore

/// A few valid writes, each then rolled back in reverse order: every row must be as it was.
enum RollbackAttacks {
    static func plan(_ factory: inout CallFactory) -> AttackPlan {
        let tool = factory.tool
        var writes: [AttackStep] = []
        for i in 0..<3 {
            guard let step = AttackCatalogue.baselineStep(&factory, index: i * 3) else { return .skipped(AttackCatalogue.noRows) }
            writes.append(step)
        }
        // The adversary performs the writes as setup and the rollbacks as the step (see Adversary).
        return .attacks([Attack(tool: tool.name, attackClass: .rollback, variant: "roll back \(writes.count) executed writes", setup: writes,
                                step: writes[writes.count - 1], expectation: .restored)])
    }
}
