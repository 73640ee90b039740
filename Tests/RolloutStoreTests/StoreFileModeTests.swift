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

    /// A store whose file or log is open to others, as an earlier rollout or another tool made it.
    struct Exposure: Sendable, CustomTestStringConvertible {
        var suffix: String
        var mode: Int
        var testDescription: String { "the store\(suffix.isEmpty ? "" : "'s " + suffix) at \(String(mode, radix: 8))" }
    }

    @Test("a store others can read or write, or whose log they can, is not written to (review 18, D); read-only it still verifies; made its owner's, it takes writes",
          arguments: [Exposure(suffix: "", mode: 0o644), Exposure(suffix: "", mode: 0o602), Exposure(suffix: "-wal", mode: 0o604),
                      Exposure(suffix: "-shm", mode: 0o666)])
    func exposedStoreRefused(_ e: Exposure) throws {
        let path = TestPaths.temporaryDirectory("file-mode").path + "/audit.sqlite"
        // Kept open, so the store keeps its write-ahead log.
        let first = try AuditStore(path: path)
        try first.append([AuditEvent(ts: Date(timeIntervalSince1970: 1_795_000_000), tenant: "acme", actor: "agent-1", tool: "items.create", decision: "executed")])
        #expect(chmod(path + e.suffix, mode_t(e.mode)) == 0)
        #expect {
            _ = try AuditStore(path: path)
        } throws: { error in
            guard case StoreError.exposed(let file, let mode) = error else { return false }
            return file == path + e.suffix && mode == e.mode && "\(error)".contains("chmod o-rwx")
        }
        #expect(try AuditStore(path: path, create: false, readOnly: true).verify().ok)
        #expect(chmod(path + e.suffix, 0o600) == 0)
        try AuditStore(path: path).append([AuditEvent(ts: Date(timeIntervalSince1970: 1_795_000_001), tenant: "acme", actor: "agent-1", tool: "items.create", decision: "executed")])
        #expect(try first.verify().checked == 2)
    }

    @Test("a store path that is a link to a file that does not exist is refused, and nothing is made where it points (review 19, F3)")
    func danglingLinkRefused() throws {
        let dir = TestPaths.temporaryDirectory("file-mode").path
        try FileManager.default.createDirectory(atPath: dir + "/elsewhere", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir + "/audit.sqlite", withDestinationPath: dir + "/elsewhere/store.sqlite")
        #expect {
            _ = try AuditStore(path: dir + "/audit.sqlite")
        } throws: { error in
            guard case StoreError.badLocation(let message) = error else { return false }
            return message.contains("is a link to \(dir)/elsewhere/store.sqlite, which does not exist")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/elsewhere/store.sqlite"))
    }
}
