import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

@testable import RolloutStore

/// `ROLLOUT_SQLITE_SYNCHRONOUS` chooses what an embedded store's commits survive: a value read wrongly would
/// give a guarantee other than the one asked for, so only `normal` and `full` are taken, and the store's
/// writing connection must run with the setting chosen.
@Suite("Store: durability of commits")
struct StoreDurabilityTests {
    @Test("the setting's text: normal when unset, either word in any case and blanks", arguments: [
        (nil, StoreDurability.normal), ("normal", .normal), ("NORMAL", .normal), ("full", .full), (" Full ", .full), ("\tfull", .full),
    ] as [(String?, StoreDurability)])
    func parses(text: String?, expected: StoreDurability) throws {
        #expect(try StoreDurability.parse(text) == expected)
    }

    @Test("any other value is refused with the variable, the value (quoted) and both words named; an empty one too (=$UNSET in a unit file)",
          arguments: ["off", "2", "extra", "fulll", "normal,full", "1", "", "  ", "full\n"])
    func refuses(text: String) {
        #expect {
            try StoreDurability.parse(text)
        } throws: { error in
            let message = "\(error)"
            return message.contains("ROLLOUT_SQLITE_SYNCHRONOUS=\(text.debugDescription): expected normal") && message.contains("or full")
                && message.contains("nothing was opened")
        }
    }

    @Test("the store's writing connection runs with the setting chosen (SQLite's synchronous: NORMAL is 1, FULL 2)", arguments: [
        (StoreDurability.normal, 1), (.full, 2),
    ] as [(StoreDurability, Int64)])
    func appliesSetting(durability: StoreDurability, synchronous: Int64) throws {
        let path = TestPaths.temporaryDirectory().appendingPathComponent("audit.sqlite").path
        let store = try AuditStore(path: path, durability: durability)
        #expect(try store.engine.write { sql in try sql.scalar("PRAGMA synchronous")?.int64 } == synchronous)
        // Writes commit and verify the same way at either setting.
        let event = AuditEvent(ts: Date(timeIntervalSince1970: 1_800_000_000), tenant: "acme", actor: "agent-1", tool: "orders.update", decision: "executed")
        try store.append([event])
        let check = try store.verify()
        #expect(check.ok && check.checked == 1)
        // Still so after writes (nothing of GRDB's sets it again).
        #expect(try store.engine.write { sql in try sql.scalar("PRAGMA synchronous")?.int64 } == synchronous)
        // A read-only twin carries the setting on (it writes nothing, so applies none) rather than read it from the environment again.
        #expect((try store.readOnlyTwin()?.engine as? SQLiteEngine)?.durability == durability)
    }
}
