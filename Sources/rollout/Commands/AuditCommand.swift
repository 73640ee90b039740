import ArgumentParser
import Foundation
import RolloutCore
import RolloutGuard
import RolloutStore

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "The audit log: import, verify, tail, export, roll back.",
        subcommands: [AuditImport.self, AuditVerify.self, AuditTail.self, AuditExport.self, AuditRollback.self]
    )
}

struct AuditImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import audit events from JSON Lines files (rollout's format or OrmAI's), all or nothing per file.",
        discussion: """
            Each file is one transaction: a bad line stops that file with its line number and field, and nothing
            of it is kept; files before it stay imported. Gzip files are read as they are; "-" reads standard input.
            Events are chained to the store's head, so `rollout audit verify` covers them.

            Example:
              rollout audit import events.jsonl
              rollout audit import --from ormai /srv/ormai/audit.jsonl
            """
    )

    @Argument(help: "Files to import.")
    var files: [String]

    @Option(help: "Record format: auto, jsonl (rollout's interchange format), ormai (OrmAI's audit store).")
    var from: String = "auto"

    @OptionGroup var folderOptions: FolderOptions
    @OptionGroup var storeOption: StoreOption
    @OptionGroup var formatOption: FormatOption

    func validate() throws {
        if files.isEmpty { throw ValidationError("name at least one file") }
        if ImportFormat(rawValue: from) == nil { throw ValidationError("--from must be auto, jsonl or ormai") }
    }

    func run() throws {
        let store = try storeOption.open(create: true)
        // Secrets the policy names are redacted on the way in, when there is a policy.
        let key = try store.redactionKey()
        let redactor = (try? folderOptions.folder.loadPolicy()).map { Redactor(policy: $0, key: key) } ?? Redactor(key: key)
        var summaries: [JSONValue] = []
        for file in files {
            let started = Date()
            let summary = try store.importFile(file, format: ImportFormat(rawValue: from)!, redactor: redactor) { count in
                Output.error("\(file): \(count) events…")
            }
            let seconds = Date().timeIntervalSince(started)
            if formatOption.format == .text {
                Output.line("\(summary.file): imported \(summary.imported) events (\(summary.format.rawValue)) as #\(summary.firstSeq)…#\(summary.head.seq) in \(String(format: "%.2f", seconds))s; chain head \(summary.head.hash.prefix(16))…")
            }
            summaries.append([
                "file": .string(summary.file), "format": .string(summary.format.rawValue), "imported": .number(Double(summary.imported)),
                "first_seq": .number(Double(summary.firstSeq)), "head_seq": .number(Double(summary.head.seq)), "head_hash": .string(summary.head.hash),
            ])
        }
        if formatOption.format == .json { Output.json(.array(summaries)) }
    }
}

struct AuditVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the hash chain: any edit, deletion or reordering of an event is found.",
        discussion: "Exit status: 0 the chain is intact; 1 it is broken (the first break is printed).\n\nExample:\n  rollout audit verify --store .rollout/audit.sqlite"
    )

    @OptionGroup var storeOption: StoreOption
    @OptionGroup var formatOption: FormatOption

    func run() throws {
        let store = try storeOption.open(create: false)
        let result = try store.verify { n in Output.error("verified \(n) events…") }
        switch formatOption.format {
        case .json:
            var object: [String: JSONValue] = [
                "ok": .bool(result.ok), "checked": .number(Double(result.checked)),
                "head_seq": .number(Double(result.head.seq)), "head_hash": .string(result.head.hash),
            ]
            if let b = result.firstBreak {
                object["break"] = ["seq": .number(Double(b.seq)), "problem": .string(b.problem.rawValue), "detail": .string(b.detail)]
            }
            Output.json(.object(object))
        case .text:
            if let b = result.firstBreak {
                Output.line("BROKEN at event \(b.seq) (\(b.problem.rawValue)): \(b.detail)")
                Output.line("\(result.checked) events verified before the break")
            } else {
                Output.line("ok: \(result.checked) events, chain head #\(result.head.seq) \(result.head.hash)")
            }
        }
        if !result.ok { throw FailureExit(status: ExitStatus.problemFound) }
    }
}

struct AuditTail: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Show the latest audit events; --follow keeps printing new ones.",
        discussion: "Example:\n  rollout audit tail --tenant acme -n 50\n  rollout audit tail --follow --format json"
    )

    @Option(help: "Only this tenant.")
    var tenant: String?

    @Option(name: .shortAndLong, help: "How many of the latest events.")
    var lines = 20

    @Flag(help: "Keep printing events as they are written (Ctrl-C to stop).")
    var follow = false

    @OptionGroup var storeOption: StoreOption
    @OptionGroup var formatOption: FormatOption

    func run() throws {
        let store = try storeOption.open(create: false)
        var last: Int64 = 0
        func show(_ events: [AuditEvent]) {
            for event in events {
                switch formatOption.format {
                case .json: Output.line(event.json.canonicalText)
                case .text: Output.line(EventText.line(event))
                }
                last = max(last, event.seq)
            }
            Output.flush()
        }
        show(try store.lastEvents(lines, tenant: tenant))
        if last == 0 { last = try store.head().seq }
        while follow {
            Thread.sleep(forTimeInterval: 0.5)
            show(try store.events(after: last, tenant: tenant, limit: 1000))
        }
    }
}

struct AuditExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the audit log as JSON Lines (the interchange format).",
        discussion: "Example:\n  rollout audit export --tenant acme --out acme.jsonl"
    )

    @Option(help: "Only this tenant.")
    var tenant: String?

    @Option(help: "Write here instead of standard output.")
    var out: String?

    @OptionGroup var storeOption: StoreOption

    func run() throws {
        let store = try storeOption.open(create: false)
        let handle: FileHandle
        if let out {
            _ = FileManager.default.createFile(atPath: out, contents: nil)
            guard let h = FileHandle(forWritingAtPath: out) else { throw ValidationError("cannot write \(out)") }
            handle = h
        } else {
            handle = FileHandle.standardOutput
        }
        let count = try store.export(to: handle, tenant: tenant)
        if out != nil { Output.error("exported \(count) events to \(out!)") }
    }
}

struct AuditRollback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Undo one executed write from its audit event's before and after values.",
        discussion: """
            The rollback runs where the write ran: on the built-in demo, or through the upstream's `inverse:` tool
            (the upstream of upstreams.yaml the event names; one started from a bare command needs the same command
            after --). Refused, with the reason, when the rows changed since (or their current state cannot be read),
            a value was redacted and not kept, or it was already rolled back. The rollback is itself an audit event.
            Exit status: 0 rolled back; 1 refused; 2 bad input.

            Example:
              rollout audit rollback 42 --reason "agent set the wrong status, ticket 881" --by dev.patel
            """
    )

    @Argument(help: "The audit event id of the write.")
    var auditId: Int64

    @Option(help: "Why; recorded in the audit log.")
    var reason: String

    @Option(help: "Who rolls back (default: $ROLLOUT_ACTOR or $USER).")
    var by: String?

    @Option(help: ArgumentHelp("Read the upstream's rows here (default: its entry's observe).", valueName: "sqlite:PATH"))
    var observe: String?

    @OptionGroup var folderOptions: FolderOptions
    @OptionGroup var storeOption: StoreOption
    @OptionGroup var formatOption: FormatOption

    @Argument(parsing: .postTerminator, help: ArgumentHelp("For a write made by `rollout guard -- CMD` without an upstreams.yaml entry: the same command, after --.", valueName: "command"))
    var upstreamCommand: [String] = []

    func run() async throws {
        let store = try storeOption.open(create: false)
        guard let event = try store.event(seq: auditId) else { throw GuardError.noSuchEvent(auditId) }
        let person = try Person.resolve(by)
        let decision = try await BackendRun.with(backend: event.backend ?? GuardBackend.builtin, folder: folderOptions.folder, store: store,
                                                 command: upstreamCommand.isEmpty ? nil : upstreamCommand, observe: observe) { guard_ in
            try await guard_.rollback(auditId, by: person, reason: reason)
        }
        DecisionPrinter.print(decision, format: formatOption.format)
        if decision.code != .rolledBack { throw FailureExit(status: ExitStatus.problemFound) }
    }
}
