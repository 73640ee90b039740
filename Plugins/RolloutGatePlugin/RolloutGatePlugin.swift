import Foundation
import PackagePlugin

/// `swift package --allow-writing-to-package-directory rollout-gate --tenant T`: the CI check. Builds the
/// `rollout` product through the package manager (one build, shared with `swift build`), runs
/// `rollout gate` with the given arguments in the package directory, and exits with the gate's status:
/// 0 every gate successful, 1 a gate blocks, 2 bad input, 3 internal error.
@main
struct RolloutGatePlugin: CommandPlugin {
    func performCommand(context: PluginContext, arguments: [String]) async throws {
        if arguments.isEmpty || arguments.contains("--help") || arguments.contains("-h") {
            print("""
                usage: swift package --allow-writing-to-package-directory rollout-gate --tenant T [rollout gate options]

                Builds `rollout`, runs `rollout gate` in the package directory and exits with its status.
                Every option of `rollout gate` is passed through (see `swift run rollout gate --help`).
                """)
            if arguments.isEmpty { exit(2) }
            return
        }
        let build = try packageManager.build(.product("rollout"), parameters: .init(configuration: .debug, logging: .concise))
        guard build.succeeded else {
            Diagnostics.error("building rollout failed:\n\(build.logText)")
            exit(3)
        }
        guard let tool = build.builtArtifacts.first(where: { $0.kind == .executable && $0.url.lastPathComponent == "rollout" }) else {
            Diagnostics.error("the build succeeded but produced no `rollout` executable")
            exit(3)
        }
        let process = Process()
        process.executableURL = tool.url
        process.arguments = ["gate"] + arguments
        process.currentDirectoryURL = context.package.directoryURL
        try process.run()
        process.waitUntilExit()
        let status = process.terminationReason == .exit ? process.terminationStatus : 3
        if status != 0 { exit(status) }
    }
}
