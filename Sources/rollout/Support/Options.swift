import ArgumentParser
import Foundation
import RolloutCore
import RolloutReports
import RolloutStore

extension OutputFormat: ExpressibleByArgument {}

/// Every duration option takes the same forms: `30s`, `15m`, `1h`, `7d`, combinations such as `1h30m`,
/// ISO 8601 (`PT1H`), or a bare number of seconds; anything else is a usage error (exit 2).
/// (`TimeSpan.init?(argument:)` in RolloutCore is the parser.)
extension TimeSpan: ExpressibleByArgument {
    public static var defaultCompletionKind: CompletionKind { .list(["30s", "15m", "1h", "7d"]) }
}

/// The options every command shares: where the rollout folder, the policy and the store are.
struct FolderOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The rollout folder.", valueName: "dir"))
    var dir: String = "rollout"

    @Option(name: .long, help: ArgumentHelp("The policy file (default: DIR/policy.yaml).", valueName: "path"))
    var policy: String?

    var folder: RolloutFolder { RolloutFolder(directory: dir, policyPath: policy) }
}

/// How lint and fuzz print their findings: for people, for machines, or as SARIF 2.1.0 for code
/// scanning (on standard output; the human table then goes to standard error).
enum FindingsFormat: String, CaseIterable, ExpressibleByArgument {
    case text, json, sarif
}

/// `--format text|json|sarif` for lint and fuzz.
struct FindingsFormatOption: ParsableArguments {
    @Option(name: .long, help: "Output format: text for people, json for machines, sarif for code scanning (SARIF 2.1.0 on standard output).")
    var format: FindingsFormat = .text
}

extension JUnitWriter.Profile: ExpressibleByArgument {}

/// `--junit-profile`: which JUnit consumers the report is written for.
struct JUnitProfileOption: ParsableArguments {
    @Option(help: ArgumentHelp(
        "JUnit flavour: strict (Jenkins' schema), github (adds file and line on each test case), or surefire (Maven's: --junit is then a folder of TEST-<suite>.xml files).",
        valueName: "profile"))
    var junitProfile: JUnitWriter.Profile = .strict
}

/// `--format text|json` for commands that print data.
struct FormatOption: ParsableArguments {
    @Option(name: .long, help: "Output format: text for people, json for machines.")
    var format: OutputFormat = .text
}

enum RolloutVersion {
    static let current = "0.1.0"
}

/// `--store PATH`: the audit store (default `.rollout/audit.sqlite`, or `ROLLOUT_STORE`).
struct StoreOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The audit store (default: .rollout/audit.sqlite or $ROLLOUT_STORE).", valueName: "path"))
    var store: String?

    var path: String { store ?? AuditStore.defaultPath }
    /// The store as messages show it: a URL's password replaced by `***`.
    var shownPath: String { StoreEngines.redacted(path) }

    /// Opens the store; `create` for commands that write.
    func open(create: Bool) throws -> AuditStore {
        try Self.open(path: path, create: create)
    }

    static func open(path: String, create: Bool) throws -> AuditStore {
        try AuditStore(path: path, create: create)
    }

    /// The store when there is one: a database URL is always opened (a server that cannot be reached
    /// is an error, not "never run"); a file only when it exists.
    func openIfPresent() throws -> AuditStore? {
        try AuditStore.checkLocation(path)
        if path.contains("://") || FileManager.default.fileExists(atPath: path) { return try open(create: false) }
        return nil
    }

    /// The store when there is one, opened read-only (nothing written, not even a migration): for
    /// commands that only look at it.
    func openReadOnlyIfPresent() throws -> AuditStore? {
        try AuditStore.checkLocation(path)
        guard path.contains("://") || FileManager.default.fileExists(atPath: path) else { return nil }
        return try AuditStore(path: path, create: false, readOnly: true)
    }
}

/// Who a person says they are when they approve, deny, roll back or promote.
enum Person {
    static func resolve(_ given: String?) throws -> String {
        if let given, !given.trimmingCharacters(in: .whitespaces).isEmpty { return given }
        if let env = ProcessInfo.processInfo.environment["ROLLOUT_ACTOR"], !env.isEmpty { return env }
        if let user = ProcessInfo.processInfo.environment["USER"], !user.isEmpty { return user }
        throw ValidationError("say who you are with --by NAME (or set ROLLOUT_ACTOR)")
    }

    /// Who decides a queued write, or rolls a write back: `resolve`'s name, which must be one of approvers.yaml
    /// when the folder has one (serve takes decisions from them only, and so does the command line), and is
    /// then recorded as the file spells it.
    static func approver(_ given: String?, folder: RolloutFolder) throws -> String {
        let name = try resolve(given)
        guard FileManager.default.fileExists(atPath: folder.approversPath) else { return name }
        let listed = try folder.loadApprovers().approvers.map(\.name)
        guard let spelled = listed.first(where: { PersonIdentity.same($0, name) }) else {
            throw ValidationError("\(name) is not an approver of \(folder.approversPath) (\(listed.joined(separator: ", "))): a queued write is decided, and a write rolled back, by a listed approver")
        }
        return spelled
    }

    /// For stage changes, which are recorded by name: --by or $ROLLOUT_ACTOR, never the login name.
    static func explicit(_ given: String?) throws -> String {
        if let given, !given.trimmingCharacters(in: .whitespaces).isEmpty { return given }
        if let env = ProcessInfo.processInfo.environment["ROLLOUT_ACTOR"], !env.isEmpty { return env }
        throw ValidationError("say who makes this change with --by NAME (or set ROLLOUT_ACTOR); it is recorded in tenants.yaml and the audit log")
    }
}

/// The redactor for values leaving a store: the store's key, and the policy's secret fields when the
/// folder has a policy (credential-named keys are hidden either way).
enum Redactors {
    static func forOutput(store: AuditStore, folder: RolloutFolder) throws -> Redactor {
        // A read-only store cannot keep a new key: its output is then marked under a key of this run.
        let key = (try? store.redactionKey()) ?? Redactor.runKey
        return (try? folder.loadPolicy()).map { Redactor(policy: $0, key: key) } ?? Redactor(key: key)
    }
}

/// The anchor an approval or a rollback holds the log to: `--anchor FILE`, else `$ROLLOUT_ANCHOR`.
/// `--anchor` for the commands that decide on what the chain says (stage changes, denials): the store's log must
/// still hold the head the anchor names, so a tail cut off with the head moved back reads as a broken chain.
struct ChainAnchorOption: ParsableArguments {
    @Option(help: ArgumentHelp("An anchor file from `rollout audit anchor` (or $ROLLOUT_ANCHOR): the store's chain must still hold that head, so a tail deleted with the head moved back (a pause or a decision with it) reads as a broken chain.", valueName: "file"))
    var anchor: String?

    func read() throws -> ChainAnchor? { try AnchorOption.read(anchor) }
}

enum AnchorOption {
    static func read(_ path: String?) throws -> ChainAnchor? {
        guard let path = path ?? ProcessInfo.processInfo.environment["ROLLOUT_ANCHOR"].flatMap({ $0.isEmpty ? nil : $0 }) else { return nil }
        return try ChainAnchor.read(path: path)
    }
}
