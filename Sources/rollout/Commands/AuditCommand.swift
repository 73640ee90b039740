import ArgumentParser
import Foundation
import RolloutCore
import RolloutGuard
import RolloutMCP
import RolloutStore

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "The audit log: import, verify, tail, export, roll back.",
        subcommands: [AuditImport.self, AuditVerify.self, AuditAnchor.self, AuditTail.self, AuditExport.self, AuditRollback.self]
    )
}

struct AuditImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import audit events from JSON Lines files (rollout's format or OrmAI's), all or nothing per file.",
        discussion: """
            Each file is one transaction: a bad line stops that file with its line number and field, and nothing \
            of it is kept; files before it stay imported. Gzip files are read as they are; "-" reads standard input. \
            Events are chained to the store's head, so `rollout audit verify` covers them. Each is marked \
            imported (details.imported, the file's name, whatever the record says): it is scored and reported, \
            but no guard wrote it, so `rollout audit rollback` and `rollout approve` never act on it.

            Example:
              rollout audit import agent-audit.jsonl   # rollout/examples/traffic.py
              rollout audit import --from ormai rollout/examples/ormai/audit.jsonl
            """
    )

    @Argument(help: "Files to import.")
    var files: [String]

    @Option(help: "Record format: auto, jsonl (rollout's interchange format), ormai (OrmAI's audit store).")
    var from: String = "auto"

    @Flag(help: "Import without a policy: only credential-named keys (token, password, api_key...) are redacted, not the policy's secret fields.")
    var noPolicy = false

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
        // The policy names the secret fields: without it they would be stored in clear, so its absence is
        // an error unless the user says so.
        var policy: Policy?
        if !noPolicy {
            do {
                policy = try folderOptions.folder.loadPolicy()
            } catch {
                throw ValidationError("the import redacts the policy's secret fields, and \(folderOptions.folder.policyPath) cannot be read (\(error)); run it in the project folder or give --dir, or pass --no-policy to redact only credential-named keys")
            }
        }
        let key = try store.redactionKey()
        let redactor = policy.map { Redactor(policy: $0, key: key) } ?? Redactor(key: key)
        var summaries: [JSONValue] = []
        for file in files {
            let started = Date()
            let bar = ProgressBar()
            var lastLine = Date.distantPast
            let summary = try store.importFile(file, format: ImportFormat(rawValue: from)!, redactor: redactor) { p in
                // The share of the file read, and the time left at the pace so far.
                let elapsed = Date().timeIntervalSince(started)
                var label = "\(file): \(p.events) events"
                if let f = p.fraction, f > 0 {
                    label += String(format: ", %.0f%%", f * 100)
                    if f < 1 { label += ", \(TimeSpan.describe(seconds: elapsed * (1 - f) / f)) left" }
                }
                if bar.interactive {
                    bar.update(fraction: p.fraction ?? 0, label: label)
                } else if Date().timeIntervalSince(lastLine) >= 2 {
                    lastLine = Date()
                    bar.line(label)
                }
            }
            bar.finish()
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
        abstract: "Check the hash chain: any edit, deletion, reordering or column change of an event is found.",
        discussion: """
            Every event's hash is recomputed from its stored body and linked to the one before; every column a report \
            or gate reads is checked against the body. With ROLLOUT_CHAIN_KEY set, every signed row's signature is \
            checked too (a forged tail with recomputed hashes fails); a signed chain verified without its key is a \
            problem (key_missing), not intact; with --anchor, the log must still hold the \
            anchored head (`rollout audit anchor` wrote it), so a tail deleted with the head moved back fails. \
            rollout's own tables, indexes and triggers must be as its migrations made them (schema_edited names a \
            trigger added or dropped, an index relabelled: no rollout writer writes to such a store). With --deep, SQLite's \
            integrity check runs too (store_damaged: an index whose pages were edited or whose root was moved, which \
            hides a key's events from the guard with every row and the schema intact). \
            The store is opened read-only: a copy on a read-only disk verifies. \
            Exit status: 0 the chain is intact; 1 it is broken (the first break is printed); 2 bad input.

            Examples:
              rollout audit verify
              rollout audit verify --anchor anchors/latest.json
              rollout audit verify --deep --format json
            """
    )

    @Option(help: ArgumentHelp("An anchor file from `rollout audit anchor` (or $ROLLOUT_ANCHOR): the log must still hold that head.", valueName: "file"))
    var anchor: String?

    @Flag(help: "Also run SQLite's integrity check: every index must hold exactly its rows (an index edited or moved by hand hides a key's events from the guard). Reads the whole file again.")
    var deep = false

    @OptionGroup var storeOption: StoreOption
    @OptionGroup var formatOption: FormatOption

    func run() throws {
        let store = try AuditStore(path: storeOption.path, create: false, readOnly: true)
        let anchorValue = try AnchorOption.read(anchor)
        if deep { Output.error("running SQLite's integrity check…") }
        let result = try store.verify(key: ChainKey.fromEnvironment, anchor: anchorValue, deep: deep) { n in Output.error("verified \(n) events…") }
        switch formatOption.format {
        case .json:
            var object: [String: JSONValue] = [
                "ok": .bool(result.ok), "checked": .number(Double(result.checked)),
                "head_seq": .number(Double(result.head.seq)), "head_hash": .string(result.head.hash),
                "signatures_checked": .bool(result.signaturesChecked), "anchor_checked": .bool(result.anchorChecked),
                "deep_checked": .bool(result.deepChecked),
            ]
            if let b = result.firstBreak {
                object["break"] = ["seq": .number(Double(b.seq)), "problem": .string(b.problem.rawValue), "detail": .string(b.detail)]
            }
            Output.json(.object(object))
        case .text:
            if let b = result.firstBreak {
                Output.line("BROKEN\(b.seq > 0 ? " at event \(b.seq)" : "") (\(b.problem.rawValue)): \(b.detail)")
                Output.line("\(result.checked) events verified before the break")
            } else {
                var extras: [String] = []
                if result.signaturesChecked { extras.append("signatures checked") }
                if result.anchorChecked { extras.append("anchor held") }
                if result.deepChecked { extras.append("indexes and pages intact") }
                Output.line("ok: \(result.checked) events, chain head #\(result.head.seq) \(result.head.hash)" + (extras.isEmpty ? "" : " (\(extras.joined(separator: ", ")))"))
            }
        }
        if !result.ok { throw FailureExit(status: ExitStatus.problemFound) }
    }
}

struct AuditAnchor: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "anchor",
        abstract: "Write the chain head (sequence, hash, time) for safekeeping outside the store.",
        discussion: """
            Keep the anchor somewhere the store's owner cannot rewrite (a ticket, another repository, object storage \
            with retention). `rollout audit verify --anchor FILE` later proves the log still holds that head. The \
            anchor of a signed chain is signed with ROLLOUT_CHAIN_KEY, and refused without it (verification holds an \
            unsigned anchor of a signed chain to be edited).

            Examples:
              rollout audit anchor --out anchors/$(date +%F).json
              rollout audit anchor > "anchors/latest.json"    # or pipe it anywhere
            """
    )

    @Option(help: "Write the anchor here instead of standard output.")
    var out: String?

    @OptionGroup var storeOption: StoreOption

    func run() throws {
        let store = try AuditStore(path: storeOption.path, create: false, readOnly: true)
        let anchor = try store.anchor()
        if let keyedFrom = anchor.keyedFrom, anchor.mac == nil {
            throw ValidationError("the chain of \(store.path) is signed (from event \(keyedFrom)): set ROLLOUT_CHAIN_KEY to the key it is signed with, so the anchor is signed too (verification refuses an unsigned anchor of a signed chain)")
        }
        let text = anchor.json.prettyText() + "\n"
        if let out {
            do {
                let url = URL(fileURLWithPath: out)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(text.utf8).write(to: url, options: .atomic)
            } catch {
                throw ValidationError("cannot write \(out): \(error.localizedDescription)")
            }
            Output.error("anchored event #\(anchor.seq) \(anchor.hash.prefix(16))… in \(out)")
        } else {
            Output.line(text.trimmingCharacters(in: .newlines))
        }
    }
}

struct AuditTail: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Show the latest audit events; --follow keeps printing new ones.",
        discussion: "Example:\n  rollout audit tail --tenant acme -n 50\n  rollout audit tail --follow --format json    # until Ctrl-C"
    )

    @Option(help: "Only this tenant.", completion: .rolloutTenants)
    var tenant: String?

    @Option(name: [.customShort("n"), .long], help: "How many of the latest events (as tail(1) takes it).")
    var lines = 20

    @Flag(help: "Keep printing events as they are written (Ctrl-C to stop).")
    var follow = false

    @OptionGroup var folderOptions: FolderOptions
    @OptionGroup var storeOption: StoreOption
    @OptionGroup var formatOption: FormatOption

    func run() throws {
        let store = try storeOption.open(create: false)
        let redactor = try Redactors.forOutput(store: store, folder: folderOptions.folder)
        var last: Int64 = 0
        func show(_ events: [AuditEvent]) {
            for event in events.map(redactor.redact) {
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

    @Option(help: "Only this tenant.", completion: .rolloutTenants)
    var tenant: String?

    @Option(help: "Write here instead of standard output.")
    var out: String?

    @OptionGroup var folderOptions: FolderOptions
    @OptionGroup var storeOption: StoreOption

    func run() throws {
        let store = try storeOption.open(create: false)
        let redactor = try Redactors.forOutput(store: store, folder: folderOptions.folder)
        let handle: FileHandle
        if let out {
            _ = FileManager.default.createFile(atPath: out, contents: nil)
            guard let h = FileHandle(forWritingAtPath: out) else { throw ValidationError("cannot write \(out)") }
            handle = h
        } else {
            handle = FileHandle.standardOutput
        }
        let count = try store.export(to: handle, tenant: tenant, redactor: redactor)
        if out != nil { Output.error("exported \(count) events to \(out!)") }
    }
}

struct AuditRollback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Undo one executed write from its audit event's before and after values.",
        discussion: """
            The rollback runs where the write ran: on the built-in demo, or through the upstream's `inverse:` tool \
            (the upstream of upstreams.yaml the event names; one started from a bare command is started again from \
            the command the event recorded), where it wrote: the same directory, env: values and observed database (for a bare command, the \
            same environment but ROLLOUT_*, PGPASSWORD, the shell's _, PWD, OLDPWD and SHLVL and the terminal \
            session's TERM, SSH_* and the like). Refused, with the reason, when the rows changed since (or their \
            current state cannot be read), \
            a value was redacted and not kept, it was already rolled back, the event was imported (no guard ran \
            it), or the audit log from it to its head does not verify (later writes to its rows are read from it; \
            with --anchor, the log must also still hold the anchored head). \
            The rollback is itself an audit event. \
            Exit status: 0 rolled back; 1 refused; 2 bad input.

            Example:
              rollout audit rollback 1 --by dev.patel \\
                --reason "agent set the wrong status, ticket 881"
            """
    )

    @Argument(help: "The audit event id of the write.")
    var auditId: Int64

    @Option(help: "Why; recorded in the audit log.")
    var reason: String

    @Option(help: "Who rolls back (default: $ROLLOUT_ACTOR or $USER; one of approvers.yaml when the folder has one).")
    var by: String?

    @Option(help: ArgumentHelp("Read the upstream's rows here (default: the database its write recorded, else its entry's observe).", valueName: "sqlite:PATH"))
    var observe: String?

    @Option(help: ArgumentHelp("An anchor file from `rollout audit anchor` (or $ROLLOUT_ANCHOR): the log must still hold that head, so a tail deleted with the head moved back is refused.", valueName: "file"))
    var anchor: String?

    @OptionGroup var folderOptions: FolderOptions
    @OptionGroup var storeOption: StoreOption
    @OptionGroup var formatOption: FormatOption

    @Argument(parsing: .postTerminator, help: ArgumentHelp("For a write made by `rollout guard -- CMD` without an upstreams.yaml entry: its command, after -- (by default the one its event recorded; another is refused).", valueName: "command"))
    var upstreamCommand: [String] = []

    func run() async throws {
        let store = try storeOption.open(create: false)
        store.anchor = try AnchorOption.read(anchor)
        let decision = try await BackendRun.rollback(auditId, by: try Person.approver(by, folder: folderOptions.folder), reason: reason, folder: folderOptions.folder, store: store,
                                                     command: upstreamCommand.isEmpty ? nil : upstreamCommand, observe: observe,
                                                     log: { Output.error($0) })
        DecisionPrinter.print(decision, format: formatOption.format)
        if decision.code != .rolledBack { throw FailureExit(status: ExitStatus.problemFound) }
    }
}
