import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

@testable import RolloutStore

/// `executeCountingChanges` is how the built-in domain learns that an update found no row (and refuses
/// it as a failed write): each engine must count the rows the statement itself changed, not the rows of
/// an earlier statement in the same transaction or rows it only matched elsewhere.
@Suite("Store: rows a statement changed")
struct ChangedRowCountTests {
    @Test("an update counts the rows it changed: 1, 0 for a missing key (not the 3 just inserted), 2 for two rows", arguments: TestStores.kinds)
    func counts(kind: StoreKind) throws {
        let store = try TestStores.make(kind)
        let counts: [Int] = try store.engine.write { sql in
            try sql.execute("CREATE TABLE counted_rows (id INTEGER PRIMARY KEY, status TEXT NOT NULL, tier INTEGER NOT NULL)")
            try sql.execute("INSERT INTO counted_rows (id, status, tier) VALUES (1, 'open', 1), (2, 'open', 2), (3, 'open', 2)")
            return [
                try sql.executeCountingChanges("UPDATE counted_rows SET status = ? WHERE id = ?", [.text("shipped"), .int(1)]),
                // A statement that matches nothing reports 0, not the 3 rows the insert before it added.
                try sql.executeCountingChanges("UPDATE counted_rows SET status = ? WHERE id = ?", [.text("shipped"), .int(99)]),
                try sql.executeCountingChanges("UPDATE counted_rows SET status = ? WHERE tier = ?", [.text("held"), .int(2)]),
            ]
        }
        #expect(counts == [1, 0, 2])
        let statuses = try store.engine.read { sql in
            try sql.query("SELECT status FROM counted_rows ORDER BY id").map { $0[0].string ?? "" }
        }
        #expect(statuses == ["shipped", "held", "held"])
    }
}
