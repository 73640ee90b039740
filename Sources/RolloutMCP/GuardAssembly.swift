import Foundation
import RolloutCore
import RolloutGuard
import RolloutStore

/// How the command line names an upstream: an entry of `rollout/upstreams.yaml`, or a command.
public enum UpstreamChoice: Sendable, Hashable {
    case named(String)
    case command([String])
}

/// Why a guard for a backend cannot be built.
public enum GuardAssemblyError: Error, Sendable, CustomStringConvertible {
    case unknownUpstream(name: String, file: String, known: [String])
    case missingVariables(upstream: String, names: [String])
    case noDemoDomain(store: String)
    /// The write ran on an upstream started from a command line without an entry; the same command is needed.
    case commandNeeded(backend: String)
    case commandMismatch(backend: String, given: String)
    case unknownBackend(String)

    public var description: String {
        switch self {
        case .unknownUpstream(let name, let file, let known):
            "there is no upstream '\(name)' in \(file)" + (known.isEmpty ? " (it names none)" : "; it names \(known.joined(separator: ", "))")
        case .missingVariables(let upstream, let names):
            "upstream '\(upstream)' needs \(names.joined(separator: ", ")) in the environment (upstreams.yaml names them; their values never go in a file)"
        case .noDemoDomain(let store):
            "\(store) holds no demo domain: this write was made through the built-in demo (`rollout call --demo`), which this store was never set up for"
        case .commandNeeded(let backend):
            "this write ran on an upstream started from a command line (\(backend)); give the same command after --, or name the upstream in upstreams.yaml and run the guard with --upstream NAME"
        case .commandMismatch(let backend, let given) where backend.hasPrefix("command:") && given.hasPrefix("upstream:"):
            "the write was asked for on a server started from a bare command (\(backend)), and upstreams.yaml now names that command (\(given)): an entry binds the writes made after it, never one made before. Approve or roll this one back with the same command after -- while no entry names it, or deny it and have it asked for again"
        case .commandMismatch(let backend, let given):
            "the write ran on \(backend), and the command given is \(given): a write runs only where it was asked to"
        case .unknownBackend(let backend):
            "the write names a backend this rollout does not know: \(backend)"
        }
    }
}

/// Builds guards the way the commands need them, so that the commands only parse and print: the proxy
/// in front of an upstream, and the guard that approves or rolls back a write on the backend it ran on.
public enum GuardAssembly {
    /// The upstream a choice names, not yet started.
    public static func upstream(
        _ choice: UpstreamChoice, folder: RolloutFolder, policy: Policy, observe: String?, callTimeout: Double?,
        environment: [String: String] = ProcessInfo.processInfo.environment, log: @escaping @Sendable (String) -> Void
    ) throws -> MCPUpstream {
        let upstreams = try folder.loadUpstreams()
        let entry: UpstreamsFile.Entry?
        let command: [String]
        switch choice {
        case .named(let name):
            guard let found = upstreams.entry(name) else {
                throw GuardAssemblyError.unknownUpstream(name: name, file: upstreams.file, known: upstreams.entries.map(\.name))
            }
            entry = found
            command = found.command
        case .command(let given):
            // A command that an entry names is that entry: its writes are bound to the name.
            entry = upstreams.entries.first { $0.command == given }
            command = given
        }
        if let entry {
            let missing = entry.missingVariables(in: environment)
            if !missing.isEmpty { throw GuardAssemblyError.missingVariables(upstream: entry.name, names: missing) }
        }
        let observeSpec = observe ?? entry?.observeSpec(in: environment)
        let observer = try observeSpec.map { try StateObserver(spec: $0) }
        let timeout = callTimeout ?? entry?.callTimeout.map { Double($0.seconds) } ?? 30
        let backend = entry.map { GuardBackend.upstream($0.name) } ?? GuardBackend.command(command)
        // Where it writes: its command line, the directory it runs in (it inherits the guard's), the values
        // of its entry's variables, and the database observed, each path as one canonical absolute path.
        var placement: [String: String] = [
            "command": JSONValue.array(command.map(JSONValue.string)).canonicalText, "cwd": canonicalPath(FileManager.default.currentDirectoryPath),
        ]
        for name in entry?.environment ?? [] { placement["env:" + name] = environment[name] ?? "" }
        // A server started from a command line, with no entry to say which variables decide where it writes,
        // gets the whole environment but rollout's own: all of it is bound (a tenant or a database path set in
        // another shell moved an approved write), and it gets nothing that is not.
        let bound = entry == nil ? inheritedEnvironment(environment) : nil
        if let bound { placement["environment"] = JSONValue.object(bound.mapValues(JSONValue.string)).canonicalText }
        if let observeSpec { placement["observe"] = canonicalPath(String(observeSpec.dropFirst("sqlite:".count))) }
        var options = MCPClient.Options(callTimeout: timeout)
        // The entry's variables, given explicitly: what the server is not given unasked (PGPASSWORD) it gets
        // when its entry names it.
        for name in entry?.environment ?? [] { if let value = environment[name] { options.environment[name] = value } }
        if var bound {
            // Its working directory is bound on its own (cwd); PWD says the same.
            bound["PWD"] = FileManager.default.currentDirectoryPath
            options.environment = bound
            options.inheriting = false
        }
        // An entry that limits what it inherits starts its server with that and its env: values alone, and
        // its writes record the limit: an approval under an entry that lifted it is refused.
        if let entry, let start = entry.startEnvironment(from: environment) {
            options.environment = start
            options.inheriting = false
            placement["inherit"] = (entry.inherit ?? []).sorted().joined(separator: ",")
        }
        // The program the command line names, as its server's PATH finds it: another python3 first on an
        // approver's PATH (inherited, unbound) ran the approved write elsewhere.
        let serverPath = options.inheriting ? options.environment["PATH"] ?? environment["PATH"] : options.environment["PATH"]
        placement["program"] = program(command[0], path: serverPath)
        return MCPUpstream(command: command, backend: backend, options: options, observer: observer, placement: placement,
                           recordedObserve: observe == nil ? nil : placement["observe"].map { "sqlite:" + $0 },
                           refusalPatterns: policy.refusalPatterns, log: log)
    }

    /// The file `name` runs, as `env` finds it on `path` (the system's default when nil), every link
    /// resolved; `not found: NAME` when no such program is there.
    static func program(_ name: String, path: String?) -> String {
        if name.contains("/") { return canonicalPath(name) }
        for directory in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + name
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue,
               FileManager.default.isExecutableFile(atPath: candidate) {
                return canonicalPath(candidate)
            }
        }
        return "not found: " + name
    }

    /// The shell's bookkeeping and the terminal session's own variables: they say where a person sits (an
    /// ssh connection, a terminal, a tmux pane), never where a server writes, and differ between any two
    /// shells of one person. The working directory (`PWD`) is bound on its own.
    static let sessionVariables: Set<String> = [
        "_", "PWD", "OLDPWD", "SHLVL", "TERM", "COLORTERM", "TERM_PROGRAM", "TERM_PROGRAM_VERSION", "TERM_SESSION_ID", "COLUMNS", "LINES",
        "LS_COLORS", "SSH_CLIENT", "SSH_CONNECTION", "SSH_TTY", "SSH_AUTH_SOCK", "DISPLAY", "WINDOWID", "TMUX", "TMUX_PANE", "STY", "MAIL",
        "XDG_SESSION_ID", "XDG_SESSION_TYPE", "XDG_SESSION_CLASS", "XDG_VTNR", "XDG_SEAT",
    ]

    /// What a server started from a command line gets of `environment`, all of it bound to its writes:
    /// every variable but rollout's own (`ROLLOUT_*`: its secrets, the principal and the settings are the
    /// guard's, not the server's), what is passed only when an entry names it (`PGPASSWORD`), and the
    /// session's (`sessionVariables`). What is left out of the binding is kept from the server too: a
    /// variable it got unbound could move it.
    static func inheritedEnvironment(_ environment: [String: String]) -> [String: String] {
        WithheldVariables.inheritable(environment).filter { !$0.key.hasPrefix("ROLLOUT_") && !sessionVariables.contains($0.key) }
    }

    /// `path` absolute, with every symbolic link resolved, also in a path whose last parts do not exist
    /// yet (a database its server creates on start): the deepest existing directory is resolved.
    static func canonicalPath(_ path: String) -> String {
        var head = URL(fileURLWithPath: path).standardizedFileURL
        var tail: [String] = []
        while !FileManager.default.fileExists(atPath: head.path), head.path != "/" {
            tail.insert(head.lastPathComponent, at: 0)
            head = head.deletingLastPathComponent()
        }
        let resolved = realpath(head.path, nil).map { pointer in
            defer { free(pointer) }
            return String(cString: pointer)
        } ?? head.path
        return tail.reduce(URL(fileURLWithPath: resolved)) { $0.appendingPathComponent($1) }.path
    }

    /// A guard over `store` that runs the writes of `backend`, and the upstream it talks to (not yet
    /// started): the built-in demo domain (only in a store made for it), the upstream entry named, or an
    /// upstream command that must be given again (`command`) and match.
    public static func guardFor(
        backend: String, folder: RolloutFolder, policy: Policy, stages: any StageSource, store: AuditStore, command: [String]?,
        observe: String?, log: @escaping @Sendable (String) -> Void
    ) throws -> (Guard, MCPUpstream?) {
        if backend == GuardBackend.builtin {
            guard try DemoEnvironment.isDemoStore(store) else { throw GuardAssemblyError.noDemoDomain(store: store.path) }
            let environment = try DemoEnvironment(store: store, policy: policy)
            return (Guard(policy: policy, stages: stages, environment: environment), nil)
        }
        let choice: UpstreamChoice
        if backend.hasPrefix("upstream:") {
            choice = .named(String(backend.dropFirst("upstream:".count)))
        } else if backend.hasPrefix("command:") {
            guard let command else { throw GuardAssemblyError.commandNeeded(backend: backend) }
            guard GuardBackend.command(command) == backend else {
                throw GuardAssemblyError.commandMismatch(backend: backend, given: command.joined(separator: " "))
            }
            choice = .command(command)
        } else {
            throw GuardAssemblyError.unknownBackend(backend)
        }
        let upstream = try self.upstream(choice, folder: folder, policy: policy, observe: observe, callTimeout: nil, log: log)
        guard upstream.backend == backend else {
            throw GuardAssemblyError.commandMismatch(backend: backend, given: upstream.backend)
        }
        let guard_ = Guard(policy: policy, stages: stages, environment: try StoreEnvironment(store: store, policy: policy), upstream: upstream)
        return (guard_, upstream)
    }
}
