import Foundation
import RolloutCore

/// An MCP server started as a child process, talking JSON-RPC over its stdin and stdout. Its stderr
/// is kept (the last 64 KiB) for reports, and its exit is noticed at once.
public final class ServerProcess: @unchecked Sendable {
    public let command: [String]
    private let process = Process()
    let stdinPipe = Pipe()
    /// How `LineWriter` writes to `stdinPipe`: non-blocking, once set so.
    let stdinKind: LineWriter.Kind
    /// Whether our end of the server's stdin is closed (closed once, whoever asks first).
    private var inputClosed = false
    let stdoutPipe = Pipe()
    private let stderrPipe = Pipe()
    private let lock = NSLock()
    private var stderrTail = Data()
    private var exitHandlers: [@Sendable (Int32) -> Void] = []
    private var exitStatus: Int32?

    /// Starts `command` (the first element looked up on PATH) with `environment` added to ours, or, when
    /// `inheriting` is false, with `environment` alone (a command then looked up on the PATH it gives, or
    /// the system's default path). Never with rollout's own secrets, and `WithheldVariables.unlessNamed`
    /// only when `environment` gives it.
    public init(command: [String], environment: [String: String] = [:], inheriting: Bool = true, directory: String? = nil) throws {
        guard !command.isEmpty else { throw MCPFailure.launch("the server command is empty") }
        self.command = command
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        // A server runs as the same user: it must not read in our process what its environment lacks.
        ProcessSecrecy.apply()
        var env = inheriting ? WithheldVariables.inheritable(ProcessInfo.processInfo.environment) : [:]
        for (k, v) in WithheldVariables.removed(from: environment) { env[k] = v }
        process.environment = env
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.standardInput = stdinPipe
        // Only this process writes the server's stdin: non-blocking, a request to a server that stopped
        // reading fails at its deadline (`LineWriter`) instead of holding the client for good. Should the
        // flag not take, the writes poll before each part instead (slower, as safe).
        let stdin = stdinPipe.fileHandleForWriting.fileDescriptor
        let flags = fcntl(stdin, F_GETFL)
        stdinKind = flags >= 0 && fcntl(stdin, F_SETFL, flags | O_NONBLOCK) == 0 ? .nonBlocking : .pipe
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        process.terminationHandler = { [weak self] p in self?.exited(p.terminationStatus) }
        stderrPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.lock()
            self.stderrTail.append(data)
            if self.stderrTail.count > 65_536 { self.stderrTail.removeFirst(self.stderrTail.count - 65_536) }
            self.lock.unlock()
        }
        // A child inherits the signal mask of the thread that starts it, and the runtime's threads block
        // SIGTERM and SIGINT: started from one of them, a server could never be asked to stop. Start it
        // from a thread that blocks nothing.
        nonisolated(unsafe) var launchError: Error?
        let started = DispatchSemaphore(value: 0)
        let process = self.process
        let thread = Thread {
            var none = sigset_t()
            sigemptyset(&none)
            pthread_sigmask(SIG_SETMASK, &none, nil)
            do { try process.run() } catch { launchError = error }
            started.signal()
        }
        thread.start()
        started.wait()
        if let launchError {
            throw MCPFailure.launch("cannot start \(command.joined(separator: " ")): \(launchError.localizedDescription)")
        }
        ChildProcesses.register(process.processIdentifier)
    }

    private func exited(_ status: Int32) {
        ChildProcesses.unregister(process.processIdentifier)
        lock.lock()
        exitStatus = status
        let handlers = exitHandlers
        lock.unlock()
        for handler in handlers { handler(status) }
    }

    /// Calls `handler` once when the process exits (at once if it already has).
    func onExit(_ handler: @escaping @Sendable (Int32) -> Void) {
        lock.lock()
        if let status = exitStatus {
            lock.unlock()
            handler(status)
            return
        }
        exitHandlers.append(handler)
        lock.unlock()
    }

    public var isRunning: Bool { process.isRunning }

    /// The exit status once it exited, else -1.
    public var exitCode: Int32 { lock.withLock { exitStatus ?? -1 } }
    public var pid: Int32 { process.processIdentifier }

    /// The end of what the server wrote on stderr, for error messages.
    public var stderr: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: stderrTail, as: UTF8.self)
    }

    /// The last few lines of stderr.
    public func stderrLines(_ count: Int = 8) -> String {
        stderr.split(separator: "\n").suffix(count).joined(separator: "\n")
    }

    /// Closes our end of the server's stdin, once: after a write that failed part-way nothing more may
    /// follow, and `stop` or `terminate` may come after (a second `close` could close a descriptor
    /// another thread has just been given the same number for).
    func closeInput() {
        lock.lock()
        let first = !inputClosed
        inputClosed = true
        lock.unlock()
        if first { try? stdinPipe.fileHandleForWriting.close() }
    }

    /// Ends the server: closes its input, asks it to stop, and kills it if it will not.
    public func stop(grace: TimeInterval = 2) {
        closeInput()
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(grace)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        stderrPipe.fileHandleForReading.readabilityHandler = nil
    }

    /// `stop` without blocking a Swift concurrency thread while the server winds down.
    public func terminate(grace: TimeInterval = 2) async {
        closeInput()
        if process.isRunning { process.terminate() }
        let deadline = Date().addingTimeInterval(grace)
        while process.isRunning && Date() < deadline { try? await Task.sleep(nanoseconds: 10_000_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        while process.isRunning { try? await Task.sleep(nanoseconds: 5_000_000) }
        stderrPipe.fileHandleForReading.readabilityHandler = nil
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// How talking to an MCP server failed, in words for a report; the run ends with exit status 3.
public enum MCPFailure: Error, Sendable, CustomStringConvertible {
    case launch(String)
    case exited(status: Int32, stderr: String)
    case timeout(what: String, seconds: Double, stderr: String)
    case garbage(line: String, stderr: String)
    case protocolError(String)
    /// The request never went out: the server had already failed.
    case notSent(String)

    public var description: String {
        func tail(_ stderr: String) -> String { stderr.isEmpty ? "" : "\n  server stderr (last lines):\n    " + stderr.replacingOccurrences(of: "\n", with: "\n    ") }
        switch self {
        case .launch(let message): return message
        case .exited(let status, let stderr): return "the MCP server exited (status \(status)) while a call was in flight" + tail(stderr)
        case .timeout(let what, let seconds, let stderr): return "the MCP server did not answer \(what) within \(String(format: "%g", seconds))s (hung?)" + tail(stderr)
        case .garbage(let line, let stderr): return "the MCP server wrote something that is not JSON-RPC on stdout: \(line.prefix(120).debugDescription)" + tail(stderr)
        case .protocolError(let message): return "MCP protocol error: \(message)"
        case .notSent(let why): return "the request was not sent: \(why)"
        }
    }
}
