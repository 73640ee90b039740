import ArgumentParser
import Foundation

/// Starting a program from a benchmark and waiting for it, without the run-loop polling of `Process`.
enum BenchProcess {
    /// posix_spawn and waitpid: Foundation's `Process.waitUntilExit` polls its run loop every 50 ms on
    /// Linux, which would be the whole measurement.
    static func spawn(_ binary: String, _ arguments: [String], quiet: Bool = false) throws {
        let status = try run(binary, arguments, stdout: "/dev/null", stderr: quiet ? "/dev/null" : nil)
        guard status == 0 else { throw BenchFailure("rollout \(arguments.joined(separator: " ")) failed (exit status \(status))") }
    }

    /// Runs `binary` with its standard output (and error, when given) in those files; its exit status.
    static func run(_ binary: String, _ arguments: [String], stdout: String, stderr: String? = nil) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if let stderr { posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        let argv = ([binary] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, binary, &actions, nil, argv, environ)
        guard rc == 0 else { throw BenchFailure("cannot start \(binary): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        // WIFEXITED / WEXITSTATUS, spelled out (the macros are not imported).
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// Starts `binary` in the background, its output in these files; its process id (stop it with `kill`).
    static func start(_ binary: String, _ arguments: [String], stdout: String, stderr: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv = ([binary] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, binary, &actions, nil, argv, environ)
        guard rc == 0 else { throw BenchFailure("cannot start \(binary): \(String(cString: strerror(rc)))") }
        return pid
    }

    static func which(_ program: String) -> String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map { "\($0)/\(program)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The standard output of `program arguments` (found on PATH).
    static func capture(_ program: String, _ arguments: [String]) throws -> String {
        guard let path = which(program) else { throw BenchFailure("\(program) is not installed") }
        return try captureAt(path, arguments)
    }

    /// The standard output of the program at `path` with `arguments` (its standard error is dropped).
    static func captureAt(_ path: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// The release `rollout` beside rollout-bench: the benchmarks that time whole commands run it.
    static func rolloutBinary() throws -> String {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("rollout").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw BenchFailure("no rollout binary beside rollout-bench at \(binary): swift build -c release --product rollout")
        }
        return binary
    }

    /// A new scratch directory; the caller removes it (`defer { try? FileManager.default.removeItem(at:) }`).
    static func scratchDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rollout-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// The directory a bench's `--keep` names, made if missing; one that already holds a store is refused
    /// (the bench would add to it, and its figures would count the old events as this run's).
    static func keptDirectory(_ path: String) throws -> URL {
        guard !FileManager.default.fileExists(atPath: path + "/audit.sqlite") else {
            throw ValidationError("--keep \(path) already holds a store (audit.sqlite); give a new or empty directory")
        }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return URL(fileURLWithPath: path)
    }
}
