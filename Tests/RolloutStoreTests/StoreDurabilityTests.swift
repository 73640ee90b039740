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
    @Test("the setting's text: normal when unset or empty, either word in any case and blanks", arguments: [
        (nil, StoreDurability.normal), ("", .normal), ("  ", .normal), ("normal", .normal), ("NORMAL", .normal), ("full", .full), (" Full ", .full),
    ] as [(String?, StoreDurability)])
    func parses(text: String?, expected: StoreDurability) throws {
        #expect(try StoreDurability.parse(text) == expected)
    }

    @Test("any other value is refused with the variable, the value and both words named", arguments: ["off", "2", "extra", "fulll", "normal,full", "1"])
    func refuses(text: String) {
        #expect {
            try StoreDurability.parse(text)
        } throws: { error in
            let message = "\(error)"
            return message.contains("ROLLOUT_SQLITE_SYNCHRONOUS=\(text)") && message.contains("normal") && message.contains("full")
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
        // A read-only twin is opened at the same setting, not at whatever the environment says.
        #expect((try store.readOnlyTwin()?.engine as? SQLiteEngine)?.durability == durability)
    }
}
