import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

@testable import RolloutStore

/// A store holds the clear values of redacted fields (kept for rollbacks) and the redaction key: a new
/// one was created readable by every user of the machine (review 17, D).
@Suite("Store files: a new store is its owner's alone")
struct StoreFileModeTests {
    static func mode(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    @Test("a new store, its write-ahead log and rollout's own folder are readable by their owner only, whatever the umask")
    func ownerOnly() throws {
        let dir = TestPaths.temporaryDirectory("file-mode").path
        let path = dir + "/.rollout/guard.sqlite"
        let store = try AuditStore(path: path)
        _ = try store.write { (tx: inout StoreTransaction) throws in
            try tx.append(AuditEvent(ts: Date(timeIntervalSince1970: 1_795_000_000), tenant: "acme", actor: "agent-1", tool: "items.create",
                                     decision: "executed"))
        }
        #expect(try Self.mode(path) == 0o600)
        #expect(try Self.mode(path + "-wal") == 0o600)
        #expect(try Self.mode(dir + "/.rollout") == 0o700)
        #expect(try store.verify().ok && store.verify().checked == 1)
    }

    @Test("a store made by someone else keeps its mode: rollout changes no file it did not create")
    func existingModeKept() throws {
        let path = TestPaths.temporaryDirectory("file-mode").path + "/shared.sqlite"
        FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o640])
        _ = try AuditStore(path: path)
        #expect(try Self.mode(path) == 0o640)
    }
}
