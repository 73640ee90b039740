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

    /// A new empty folder under the system's temporary directory.
    public static func temporaryDirectory(_ name: String = "rollout-test") -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
