import RolloutCore

/// Makes a failing call as small as it can be while it still fails: drops argument members one at a
/// time, shortens lists and long strings, and keeps every change under which the gap reproduces.
enum Shrinker {
    /// Candidate simplifications of `value`, smallest effect first.
    static func candidates(_ value: JSONValue) -> [JSONValue] {
        var out: [JSONValue] = []
        switch value {
        case .object(let members):
            for key in members.keys.sorted() {
                var smaller = members
                smaller[key] = nil
                out.append(.object(smaller))
            }
            for key in members.keys.sorted() {
                for simpler in candidates(members[key]!) {
                    var smaller = members
                    smaller[key] = simpler
                    out.append(.object(smaller))
                }
            }
        case .array(let items) where items.count > 1:
            out.append(.array(Array(items.prefix(items.count / 2))))
            out.append(.array(Array(items.dropLast())))
        case .string(let s) where s.count > 64:
            out.append(.string(String(s.prefix(s.count / 2))))
        default:
            break
        }
        return out
    }

    /// The smallest arguments reached by greedy steps, within `budget` reproductions.
    static func shrink(_ arguments: JSONValue, budget: Int = 60, reproduces: (JSONValue) async throws -> Bool) async rethrows -> JSONValue {
        var current = arguments
        var tries = 0
        var improved = true
        while improved && tries < budget {
            improved = false
            for candidate in candidates(current) {
                tries += 1
                if try await reproduces(candidate) {
                    current = candidate
                    improved = true
                    break
                }
                if tries >= budget { break }
            }
        }
        return current
    }
}
