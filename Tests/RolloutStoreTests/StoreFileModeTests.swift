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

    /// Where a store sits: the folders made for it, with their modes, and the store's path among them.
    struct Placement: Sendable, CustomTestStringConvertible {
        var name: String
        /// Folders made below the test's own, in order, each with its mode.
        var folders: [(path: String, mode: Int)]
        /// A link made before the store is opened: its path and the folder it points at.
        var link: (path: String, to: String)? = nil
        var store: String
        /// The folder named by the refusal, or nil when the store takes writes.
        var refusedFolder: String?
        var testDescription: String { name }
    }

    static let placements: [Placement] = [
        Placement(name: "in a folder every user may write to", folders: [("open", 0o777)], store: "open/audit.sqlite", refusedFolder: "open"),
        Placement(name: "in a folder of its owner's below one every user may write to", folders: [("open", 0o777), ("open/mine", 0o700)],
                  store: "open/mine/audit.sqlite", refusedFolder: "open"),
        Placement(name: "in a folder others may write to (without read)", folders: [("drop", 0o733)], store: "drop/audit.sqlite", refusedFolder: "drop"),
        Placement(name: "through a link to a folder below one every user may write to", folders: [("open", 0o777), ("open/mine", 0o700), ("safe", 0o700)],
                  link: ("safe/link", "open/mine"), store: "safe/link/audit.sqlite", refusedFolder: "open"),
        Placement(name: "in a folder every user may write to with the sticky bit (as /tmp)", folders: [("shared", 0o1777)], store: "shared/audit.sqlite", refusedFolder: nil),
        Placement(name: "in a folder its group may write to", folders: [("team", 0o770)], store: "team/audit.sqlite", refusedFolder: nil),
        Placement(name: "in a folder others may write to but not enter (they can change no name in it)", folders: [("drop", 0o772)],
                  store: "drop/audit.sqlite", refusedFolder: nil),
        Placement(name: "as a link, in a folder of its owner's, to a store in a folder every user may write to (review 20, 1)",
                  folders: [("open", 0o777), ("safe", 0o700)], link: ("safe/audit.sqlite", "open/audit.sqlite"), store: "safe/audit.sqlite", refusedFolder: "open"),
        Placement(name: "spelled through a folder every user may write to and back (..): a name in that folder could be a link by then",
                  folders: [("open", 0o777), ("open/sub", 0o700), ("safe", 0o700)], store: "open/sub/../../safe/audit.sqlite", refusedFolder: "open"),
        Placement(name: "in rollout's own folder, made below a folder every user may write to", folders: [("open", 0o777)],
                  store: "open/.rollout/audit.sqlite", refusedFolder: "open"),
    ]

    @Test("a store in a folder others may write to without the sticky bit, or below one, is not made nor written to; read-only it still verifies",
          arguments: placements)
    func exposedFolderRefused(_ p: Placement) throws {
        // Resolved, so the folder a refusal names is the one made here (the scratch folder may sit behind a link).
        let dir = try #require(realpath(TestPaths.temporaryDirectory("folder-mode").path, nil).map { path in
            defer { free(path) }
            return String(cString: path)
        })
        for folder in p.folders {
            try FileManager.default.createDirectory(atPath: dir + "/" + folder.path, withIntermediateDirectories: true)
        }
        let path = dir + "/" + p.store
        if let link = p.link {
            // A link to a store: the store is made where it points first.
            if link.path == p.store { try AuditStore(path: dir + "/" + link.to).append([]) }
            try FileManager.default.createSymbolicLink(atPath: dir + "/" + link.path, withDestinationPath: dir + "/" + link.to)
        }
        // A store made while the folders were the owner's alone, so there is one to refuse and to read.
        try AuditStore(path: path).append([AuditEvent(ts: Date(timeIntervalSince1970: 1_795_000_000), tenant: "acme", actor: "agent-1", tool: "items.create", decision: "executed")])
        // chmod, not the umask-bound mode of the create.
        for folder in p.folders { #expect(chmod(dir + "/" + folder.path, mode_t(folder.mode)) == 0) }
        defer { for folder in p.folders { chmod(dir + "/" + folder.path, 0o700) } }
        // A new store beside it (not for a link to a store: its folder is the owner's own).
        let fresh = p.link?.path == p.store ? nil : (path as NSString).deletingLastPathComponent + "/new.sqlite"
        for candidate in [path] + (fresh.map { [$0] } ?? []) {
            do {
                try AuditStore(path: candidate).append([AuditEvent(ts: Date(timeIntervalSince1970: 1_795_000_001), tenant: "acme", actor: "agent-1", tool: "items.create",
                                                                   decision: "executed")])
                #expect(p.refusedFolder == nil, "\(candidate) took a write")
            } catch StoreError.exposedFolder(let folder, let mode, let store) {
                #expect(folder == p.refusedFolder.map { dir + "/" + $0 }, "\(candidate)")
                #expect(mode == p.folders.first { dir + "/" + $0.path == folder }?.mode)
                #expect(store == candidate)
            }
        }
        if p.refusedFolder != nil {
            if let fresh { #expect(!FileManager.default.fileExists(atPath: fresh), "a new store was made before the refusal") }
            #expect(try AuditStore(path: path, create: false, readOnly: true).verify().checked == 1)
        } else {
            #expect(try AuditStore(path: path).verify().checked == 2)
        }
    }

    @Test("a store opened by others while a writer has it open takes no more writes from it once its modes are checked again (within a second)",
          arguments: ["file", "folder"])
    func exposedWhileOpen(what: String) throws {
        let dir = TestPaths.temporaryDirectory("file-mode").path + "/store"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/audit.sqlite"
        let store = try AuditStore(path: path)
        func append(_ second: Double) throws {
            try store.append([AuditEvent(ts: Date(timeIntervalSince1970: 1_795_000_000 + second), tenant: "acme", actor: "agent-1", tool: "items.create", decision: "executed")])
        }
        try append(0)
        let changed = what == "file" ? path : dir
        #expect(chmod(changed, what == "file" ? 0o644 : 0o777) == 0)
        defer { chmod(changed, 0o700) }
        // The next full check is at most `SchemaCheck.interval` away.
        Thread.sleep(forTimeInterval: SchemaCheck.interval + 0.1)
        #expect {
            try append(1)
        } throws: { error in
            switch error {
            case StoreError.exposed(let file, _): what == "file" && file == path
            case StoreError.exposedFolder(let folder, _, _): what == "folder" && folder.hasSuffix("/store")
            default: false
            }
        }
        #expect(try store.verify().checked == 1)
    }

    @Test("a store reached through a link has the log beside the file the link leads to checked, where SQLite puts it (review 20, 2)")
    func linkedStoresLogChecked() throws {
        let dir = TestPaths.temporaryDirectory("file-mode").path
        try FileManager.default.createDirectory(atPath: dir + "/t", withIntermediateDirectories: true)
        let target = dir + "/t/x.sqlite"
        let first = try AuditStore(path: target)
        try first.append([AuditEvent(ts: Date(timeIntervalSince1970: 1_795_000_000), tenant: "acme", actor: "agent-1", tool: "items.create", decision: "executed")])
        try FileManager.default.createSymbolicLink(atPath: dir + "/link.sqlite", withDestinationPath: target)
        #expect(chmod(target + "-wal", 0o666) == 0)
        #expect {
            _ = try AuditStore(path: dir + "/link.sqlite")
        } throws: { error in
            guard case StoreError.exposed(let file, 0o666) = error else { return false }
            return file == target + "-wal"
        }
    }

    static let runsAsRoot = geteuid() == 0 && getpwnam("nobody") != nil

    @Test("a store below a folder another user owns, or (for a writer running as root) a store file another user made, is not written to (review 20, 3 and 4)",
          .enabled(if: runsAsRoot, "needs root and the user nobody"), arguments: ["folder", "file", "wal"])
    func foreignOwnerRefused(what: String) throws {
        let dir = TestPaths.temporaryDirectory("file-mode").path + "/shared"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let nobody = try #require(getpwnam("nobody")).pointee.pw_uid
        let path = dir + "/audit.sqlite"
        let store = try AuditStore(path: path)
        try store.append([AuditEvent(ts: Date(timeIntervalSince1970: 1_795_000_000), tenant: "acme", actor: "agent-1", tool: "items.create", decision: "executed")])
        let changed = switch what {
        case "folder": dir
        case "file": path
        default: path + "-wal"
        }
        #expect(chown(changed, nobody, gid_t(0)) == 0)
        #expect {
            _ = try AuditStore(path: path)
        } throws: { error in
            guard case StoreError.foreignOwner(let named, let owner, _) = error else { return false }
            return named == changed && owner.hasPrefix("nobody (uid ") && "\(error)".contains("ROLLOUT_TRUSTED_OWNERS")
        }
        // Named as trusted (a container running as root over the host user's folder), it takes writes.
        #expect(throws: Never.self) { try StorePlacement(path).check(writer: 0, trusted: [nobody], store: path) }
        #expect(try StorePlacement.trustedOwners(["ROLLOUT_TRUSTED_OWNERS": "nobody, 4242"]) == [nobody, 4242])
        #expect(throws: StoreError.self) { try StorePlacement.trustedOwners(["ROLLOUT_TRUSTED_OWNERS": "no-such-user-here"]) }
        // Read-only, it still verifies.
        #expect(try AuditStore(path: path, create: false, readOnly: true).verify().checked == 1)
    }

    @Test("a folder on the way that is gone or cannot be examined by the time it is checked is not taken on trust")
    func vanishedFolderRefused() throws {
        let dir = TestPaths.temporaryDirectory("file-mode").path
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        let placement = try StorePlacement(dir + "/sub/audit.sqlite")
        #expect(placement.folders.last?.hasSuffix("/sub") == true)
        try FileManager.default.removeItem(atPath: dir + "/sub")
        #expect {
            try placement.check(writer: geteuid(), trusted: [], store: dir + "/sub/audit.sqlite")
        } throws: { error in
            guard case StoreError.io(let path, let detail) = error else { return false }
            return path.hasSuffix("/sub") && detail.contains("cannot be examined")
        }
    }

    @Test("a transaction that runs longer than a second checks the store's folders again before it commits: opened by others meanwhile, nothing of it is kept (review 20, 5)")
    func longTransactionCheckedAtCommit() throws {
        let dir = TestPaths.temporaryDirectory("file-mode").path + "/store"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let store = try AuditStore(path: dir + "/audit.sqlite")
        defer { chmod(dir, 0o700) }
        #expect {
            try store.write { (tx: inout StoreTransaction) throws in
                _ = try tx.append(AuditEvent(ts: Date(timeIntervalSince1970: 1_795_000_000), tenant: "acme", actor: "agent-1", tool: "items.create", decision: "executed"))
                #expect(chmod(dir, 0o777) == 0)
                Thread.sleep(forTimeInterval: SchemaCheck.interval + 0.1)
            }
        } throws: { error in
            guard case StoreError.exposedFolder(let folder, 0o777, _) = error else { return false }
            return folder.hasSuffix("/store")
        }
        chmod(dir, 0o700)
        #expect(try store.verify().checked == 0)
    }
}
