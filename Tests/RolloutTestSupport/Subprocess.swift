import Foundation

/// Runs a program to completion and captures what it printed: for tests that drive the `rollout`
/// binary, `validate.sh` and Python peers the way a user or CI would.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

public enum Subprocess {
    /// A process for `arguments[0]` (looked up on PATH) with the rest as arguments, in `cwd`, with this
    /// process's environment plus `environment`; not started.
    public static func process(_ arguments: [String], cwd: String? = nil, environment: [String: String] = [:]) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, given in given }
        return process
    }

    /// How long `run` lets a program go before it kills it and everything it started: a test whose child
    /// never ends (a server an example started, a peer waiting for input) fails with exit 124 and what the
    /// child printed, instead of holding the whole test run until CI's limit ends it with no result.
    public static let deadlineSeconds = 900

    /// Runs `arguments[0]` (looked up on PATH) with the rest as arguments, under coreutils `timeout`: it
    /// runs the program in a process group of its own and kills that group at `deadline` seconds (exit 124).
    @discardableResult
    public static func run(_ arguments: [String], cwd: String? = nil, environment: [String: String] = [:], stdin: String? = nil,
                           deadline: Int = deadlineSeconds) throws -> ProcessResult {
        let limited = hasTimeout ? ["timeout", "--kill-after=10", String(deadline)] + arguments : arguments
        let process = Self.process(limited, cwd: cwd, environment: environment)
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
        // Read both pipes concurrently so a chatty child cannot block on a full pipe.
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return ProcessResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Whether coreutils `timeout` is here (not on a stock macOS, where children run without the deadline).
    static let hasTimeout: Bool = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "command -v timeout"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    /// Whether `program` is on PATH.
    public static func available(_ program: String) -> Bool {
        (try? run(["sh", "-c", "command -v \(program)"]).status) == 0
    }
}

/// shared/junit/validate.sh: the checks real JUnit consumers make.
public enum JUnitValidation {
    public static var script: URL { TestPaths.shared.appendingPathComponent("junit/validate.sh") }

    /// Whether validate.sh can run here: the script, xmllint and junitparser.
    public static let available: Bool = {
        FileManager.default.fileExists(atPath: script.path) && Subprocess.available("xmllint")
            && (try? Subprocess.run(["python3", "-c", "import junitparser"]).status) == 0
    }()

    public static func validate(_ path: String, profile: String = "strict") throws -> ProcessResult {
        try Subprocess.run(["bash", script.path, path], environment: ["JUNIT_PROFILE": profile])
    }
}

/// The `rollout` executable this test run built.
public enum RolloutBinary {
    public static var path: String {
        // Tests run from .build/<triple>/debug; the products sit beside the test bundle.
        let candidates = [
            TestPaths.packageRoot.appendingPathComponent(".build/debug/rollout").path,
        ] + (Bundle.allBundles.map { $0.bundleURL.deletingLastPathComponent().appendingPathComponent("rollout").path })
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }

    public static func run(_ arguments: [String], cwd: String? = nil, environment: [String: String] = [:]) throws -> ProcessResult {
        try Subprocess.run([path] + arguments, cwd: cwd, environment: environment)
    }
}
