import Foundation

/// A background process whose output lines are collected as they come, so a test can wait for one
/// (with a deadline that holds even when the process prints nothing).
public final class Background: @unchecked Sendable {
    public let process: Process
    public let stdout = Pipe()
    public let stderr = Pipe()
    private let lock = NSLock()
    private var collected: [ObjectIdentifier: String] = [:]

    public init(_ arguments: [String], cwd: String? = nil, environment: [String: String] = [:]) throws {
        process = Subprocess.process(arguments, cwd: cwd, environment: environment)
        process.standardOutput = stdout
        process.standardError = stderr
        for pipe in [stdout, stderr] {
            let key = ObjectIdentifier(pipe)
            pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
                let data = handle.availableData
                guard let self else { return }
                if data.isEmpty { handle.readabilityHandler = nil; return }
                self.lock.withLock { self.collected[key, default: ""] += String(decoding: data, as: UTF8.self) }
            }
        }
        try process.run()
    }

    /// Everything `pipe` has printed so far.
    public func text(of pipe: Pipe) -> String { lock.withLock { collected[ObjectIdentifier(pipe)] ?? "" } }

    /// The first complete line of `pipe` that contains `marker`, within `timeout` seconds.
    public func line(containing marker: String, in pipe: Pipe, timeout: Double = 30) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let text = text(of: pipe)
            if let end = text.lastIndex(of: "\n"),
               let line = text[..<end].split(separator: "\n").first(where: { marker.isEmpty || $0.contains(marker) }) {
                return String(line)
            }
            usleep(20_000)
        }
        return nil
    }

    public func stop() {
        for pipe in [stdout, stderr] { pipe.fileHandleForReading.readabilityHandler = nil }
        // SIGKILL: a test's fixture needs no grace, and a child may have inherited a blocked SIGTERM.
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// One HTTP exchange through curl (no redirect followed, cookies in a jar).
public struct HTTPExchange {
    public var status: Int
    public var headers: [String: String]
    public var body: String

    public static func run(_ url: String, method: String = "GET", form: [String: String]? = nil, raw: String? = nil, headers: [String: String] = [:],
                    jar: String? = nil) throws -> HTTPExchange {
        var args = ["curl", "-s", "-i", "-X", method, "--max-time", "20"]
        if let jar { args += ["-b", jar, "-c", jar] }
        for (k, v) in headers { args += ["-H", "\(k): \(v)"] }
        if let form { for (k, v) in form.sorted(by: { $0.key < $1.key }) { args += ["--data-urlencode", "\(k)=\(v)"] } }
        if let raw { args += ["--data-binary", raw] }
        args.append(url)
        let result = try Subprocess.run(args)
        let text = result.stdout.replacingOccurrences(of: "\r\n", with: "\n")
        let parts = text.components(separatedBy: "\n\n")
        let head = parts.first ?? ""
        var lines = head.split(separator: "\n").map(String.init)
        let status = lines.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        lines.removeFirst(min(1, lines.count))
        var fields: [String: String] = [:]
        for line in lines { if let colon = line.firstIndex(of: ":") { fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) } }
        return HTTPExchange(status: status, headers: fields, body: parts.dropFirst().joined(separator: "\n\n"))
    }
}
