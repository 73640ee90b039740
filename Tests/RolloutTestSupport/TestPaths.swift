import Foundation

/// Locations the tests read: the package, its example folder, and `../shared` beside it.
public enum TestPaths {
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static var exampleFolder: String { packageRoot.appendingPathComponent("rollout").path }

    /// `ROLLOUT_SHARED`, else `../shared` next to the package.
    public static var shared: URL {
        if let env = ProcessInfo.processInfo.environment["ROLLOUT_SHARED"] { return URL(fileURLWithPath: env) }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }

    /// Whether `shared/` is there; tests that read it are skipped with a message when it is not.
    public static var sharedAvailable: Bool {
        FileManager.default.fileExists(atPath: shared.appendingPathComponent("DESIGN.md").path)
    }

    /// A new empty folder in this test process's scratch folder.
    public static func temporaryDirectory(_ name: String = "rollout-test") -> URL {
        let url = scratchRoot.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A path for a new file in this test process's scratch folder (nothing is created).
    public static func scratchFile(_ name: String) -> String {
        scratchRoot.appendingPathComponent("\(name)-\(UUID().uuidString)").path
    }

    /// The one folder every file the tests make lives in: `rollout-tests.<pid>` in the system's
    /// temporary directory, removed when the test process exits (set `ROLLOUT_KEEP_TEST_FILES=1` to
    /// keep it). Folders of earlier runs whose process is gone, killed before it could remove its
    /// own, are removed when the next run starts. A full run used to leave about 540 MB and 900
    /// entries in /tmp each time.
    public static let scratchRoot: URL = {
        let base = FileManager.default.temporaryDirectory
        let prefix = "rollout-tests."
        for name in (try? FileManager.default.contentsOfDirectory(atPath: base.path)) ?? [] where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count)), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            try? FileManager.default.removeItem(at: base.appendingPathComponent(name))
        }
        let url = base.appendingPathComponent(prefix + String(getpid()))
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        if ProcessInfo.processInfo.environment["ROLLOUT_KEEP_TEST_FILES"] == nil {
            atexit {
                try? FileManager.default.removeItem(at: FileManager.default.temporaryDirectory.appendingPathComponent("rollout-tests." + String(getpid())))
            }
        }
        return url
    }()
}
