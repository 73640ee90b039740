import RolloutCore

/// cap + 1 valid calls in one window, for the tenant and for one actor: the last must be refused.
/// Without a cap, a burst of valid calls all goes through: the policy gap, shown.
enum CapAttacks {
    /// A burst that long without refusal shows a missing cap.
    static let uncappedBurst = 25

    static func plan(_ factory: inout CallFactory, gaps: [SafetyBaseline.Gap]) -> AttackPlan {
        let tool = factory.tool
        let gap = gaps.first { $0.tool == tool.name && $0.area == .caps }?.message
        var attacks: [Attack] = []
        // With a tenant cap, exhaust the smallest limit the adversary (one actor) meets first. Without
        // one, a burst of valid calls shows the policy gap (an actor cap alone does not bound a fleet of agents).
        let limit: (variant: String, calls: Int, gap: String?)
        if let cap = tool.cap {
            if let actorCap = tool.actorCap, actorCap.max < cap.max {
                limit = ("actor cap of \(actorCap)", actorCap.max, nil)
            } else {
                limit = ("tenant cap of \(cap)", cap.max, nil)
            }
        } else if let actorCap = tool.actorCap, actorCap.max <= uncappedBurst {
            limit = ("actor cap of \(actorCap)", actorCap.max, nil)
        } else {
            limit = ("no tenant cap: \(uncappedBurst + 1) calls in a row", uncappedBurst, gap)
        }
        guard limit.calls <= 2_000 else { return .skipped("the cap of \(limit.calls) calls is too large to exhaust in one run") }
        // A row can be deleted once: a burst of deletes needs a row per call, or its refusals would say
        // "not found", not "cap".
        if tool.operation == .delete, factory.ownRows.count < limit.calls + 1 {
            return .skipped("only \(factory.ownRows.count) rows to delete; showing the cap needs \(limit.calls + 1) different ones")
        }
        var setup: [AttackStep] = []
        for i in 0..<limit.calls {
            guard let step = AttackCatalogue.baselineStep(&factory, index: i) else { return .skipped(AttackCatalogue.noRows) }
            setup.append(step)
        }
        guard let last = AttackCatalogue.baselineStep(&factory, index: limit.calls) else { return .skipped(AttackCatalogue.noRows) }
        attacks.append(Attack(tool: tool.name, attackClass: .caps, variant: limit.variant, setup: setup, step: last,
                              expectation: .refused, baselineGap: limit.gap))
        return .attacks(attacks)
    }
}
