import Foundation
import RolloutCore
import RolloutReports
import RolloutStore

/// The dashboard chart's calls per day and decision category, counted once over the whole log when
/// serve starts and then only for the events appended since (an imported log's old days included:
/// what is new is decided by sequence number, not by time).
final class DailyCounts: @unchecked Sendable {
    private let store: AuditStore
    private let lock = NSLock()
    private var counted: Int64 = 0
    private var byDay: [String: [String: Int]] = [:]

    init(store: AuditStore) {
        self.store = store
    }

    /// Counts what was appended since the last call.
    func refresh() throws {
        try lock.withLock {
            let delta = try store.dailyCounts(after: counted)
            for entry in delta.counts { byDay[entry.day, default: [:]][entry.decision, default: 0] += entry.count }
            counted = delta.lastSeq
        }
    }

    /// One bar per day from `from` to `to`, intents left out unless asked for (their outcomes count).
    func days(from: Date, to: Date, intents: Bool) throws -> [ComplianceReport.Day] {
        try refresh()
        return lock.withLock {
            var days: [ComplianceReport.Day] = []
            var day = from
            while day < to && days.count < 400 {
                let key = Timestamp.day(day)
                var counts: [DecisionCategory: Int] = [:]
                for (decision, count) in byDay[key] ?? [:] where intents || decision != DecisionCode.intent.rawValue {
                    counts[DecisionCategory(decision: decision), default: 0] += count
                }
                days.append(ComplianceReport.Day(day: key, counts: counts))
                day = day.addingTimeInterval(86_400)
            }
            return days
        }
    }
}
