import ArgumentParser
import Foundation
import GRDB
import GRDBSQLite
import RolloutCore
import RolloutStore

/// JSONL import with the hash chain, against a plain SQLite bulk insert of the same rows in the same run.
struct ImportBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Audit import events per second (target 200k/s) and its ratio to a plain SQLite bulk insert."
    )

    @Option(help: "Events to generate (ignored with --file).")
    var events = 1_000_000

    @Option(help: "Import this JSON Lines file instead of generated events (e.g. a convert_nab.py stream).")
    var file: String?

    @Option(help: "How many times to verify the imported store (the median is reported).")
    var verifyRepeats = 3

    func validate() throws {
        guard verifyRepeats >= 1 else { throw ValidationError("--verify-repeats must be at least 1, not \(verifyRepeats)") }
    }

    func run() throws {
        let directory = try BenchProcess.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = file ?? directory.appendingPathComponent("events.jsonl").path
        if file == nil {
            let seconds = try BenchClock.time { try Self.generate(events, to: path) }
            print("generated \(events) events in \(BenchClock.format(seconds))")
        }

        let store = try AuditStore(path: directory.appendingPathComponent("audit.sqlite").path)
        var summary: ImportSummary?
        let importSeconds = try BenchClock.time { summary = try store.importFile(path) }
        let count = summary?.imported ?? 0
        print("rollout audit import (parse, canonicalise, SHA-256 chain, insert): \(BenchClock.rate(count, importSeconds)) (\(count) events in \(BenchClock.format(importSeconds)); target 200k/s)")

        // The same rows, already in memory, inserted by SQLite alone into the same table layout (the store's
        // own statements for the table and its indexes, read from it, not a copy of them).
        let (rows, layout) = try DatabaseQueue(path: store.path).read { db in
            (try Row.fetchAll(db, sql: "SELECT ts, ts_ms, tenant, actor, session, tool, model, operation, row_count, decision, approver, idempotency_key, reason, effect, shape, body, prev_hash, hash FROM audit_events ORDER BY seq"),
             try String.fetchAll(db, sql: "SELECT sql FROM sqlite_master WHERE tbl_name = 'audit_events' AND sql IS NOT NULL ORDER BY type = 'index', name"))
        }
        var configuration = Configuration()
        configuration.journalMode = .wal
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA cache_size = -65536")
        }
        let plain = try DatabaseQueue(path: directory.appendingPathComponent("plain.sqlite").path, configuration: configuration)
        try plain.write { db in
            for statement in layout { try db.execute(sql: statement) }
        }
        // Values bound straight through SQLite's C API: SQLite's own bulk insert speed, no Swift layer.
        let values: [[DatabaseValue]] = rows.map { Array($0.databaseValues) }
        let plainSeconds = try BenchClock.time {
            try plain.write { db in
                let statement = try db.makeStatement(sql: """
                    INSERT INTO audit_events (seq, ts, ts_ms, tenant, actor, session, tool, model, operation, row_count, decision, approver, idempotency_key, reason, effect, shape, body, prev_hash, hash)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                let handle = statement.sqliteStatement
                let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
                for (i, row) in values.enumerated() {
                    sqlite3_reset(handle)
                    sqlite3_bind_int64(handle, 1, Int64(i + 1))
                    for (j, value) in row.enumerated() {
                        let index = Int32(j + 2)
                        switch value.storage {
                        case .null: sqlite3_bind_null(handle, index)
                        case .int64(let n): sqlite3_bind_int64(handle, index, n)
                        case .double(let d): sqlite3_bind_double(handle, index, d)
                        case .string(let s): sqlite3_bind_text(handle, index, s, -1, transient)
                        case .blob: sqlite3_bind_null(handle, index)
                        }
                    }
                    guard sqlite3_step(handle) == SQLITE_DONE else { throw DatabaseError(message: db.lastErrorMessage) }
                }
            }
        }
        print("plain SQLite bulk insert of the same \(rows.count) rows (one transaction, prepared statement): \(BenchClock.rate(rows.count, plainSeconds)) in \(BenchClock.format(plainSeconds))")
        print(String(format: "ratio import / plain insert: %.2f (1.00 would be SQLite's own speed)", (Double(count) / importSeconds) / (Double(rows.count) / plainSeconds)))
        // The peer the budget names: SQLite's own shell loading the same lines into one column.
        if let sqlite3 = BenchProcess.which("sqlite3") {
            let peer = directory.appendingPathComponent("peer.sqlite").path
            _ = try BenchProcess.run(sqlite3, [peer, "CREATE TABLE lines(line TEXT)"], stdout: "/dev/null")
            let peerSeconds = try BenchClock.time {
                let status = try BenchProcess.run(sqlite3, [peer, ".mode ascii", #".separator "\037" "\n""#, ".import \(path) lines"], stdout: "/dev/null")
                guard status == 0 else { throw BenchFailure("sqlite3 .import failed (\(status))") }
            }
            let ratio = (Double(count) / importSeconds) / (Double(count) / peerSeconds)
            print("sqlite3 .import of the same lines (one column, no parsing): \(BenchClock.rate(count, peerSeconds)) in \(BenchClock.format(peerSeconds))")
            print(String(format: "ratio import / sqlite3 .import: %.2f (budget: at least 0.50)", ratio))
        } else {
            print("(sqlite3 is not installed: apt-get install sqlite3 to measure the .import peer)")
        }
        // Verification of the imported store, three times: on 2 cores one run varies by 5–20%, so the
        // median is the figure, with the fastest and slowest beside it. A run that finds a break is no
        // figure at all, nor is one that checks fewer events than were imported.
        let verifications = try BenchClock.samples(repeats: verifyRepeats) {
            let verdict = try store.verify()
            if let broken = verdict.firstBreak {
                throw BenchFailure("verification of the imported store failed: \(broken.problem.rawValue) at event \(broken.seq)")
            }
            guard verdict.ok else { throw BenchFailure("verification of the imported store failed") }
            guard verdict.checked == count else {
                throw BenchFailure("verification of the imported store checked \(verdict.checked) events of the \(count) imported")
            }
        }
        let median = BenchClock.median(verifications)
        print("rollout audit verify (\(ProcessInfo.processInfo.activeProcessorCount) cores): \(BenchClock.rate(count, median)) (median of \(verifications.count): \(BenchClock.format(median)); runs \(verifications.map { BenchClock.rate(count, $0) }.reversed().joined(separator: ", "))); budget 500k/s")
    }

    /// Events in the interchange format with realistic variety: several tenants, tools, actors, decisions.
    /// `count` calls of seven tenants, `spacing` seconds apart from 2025-11-24T16:00:00Z.
    static func generate(_ count: Int, to path: String, spacing: Double = 0.25, start: Double = 1_764_000_000) throws {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: path) else { throw BenchFailure("cannot write \(path)") }
        defer { try? handle.close() }
        let tools = ["orders.update", "orders.bulk_update", "refunds.issue", "customers.update_contact", "customers.set_role"]
        let decisions = ["executed", "executed", "executed", "executed", "executed", "executed", "reason_required", "cap_exceeded", "pending_approval", "shadowed"]
        var chunk = ""
        for i in 0..<count {
            let ts = Timestamp.format(Date(timeIntervalSince1970: start + Double(i) * spacing))
            let tool = tools[i % tools.count]
            chunk += #"{"ts":"\#(ts)","tenant":"tenant-\#(i % 7)","actor":"agent-\#(i % 13)","session":"s-\#(i / 50)","tool":"\#(tool)","model":"Order","operation":"update","targets":[\#(i % 5000)],"row_count":1,"fields_changed":{"status":{"before":"pending","after":"shipped"},"notes":{"before":null,"after":"tracking \#(i)"}},"reason":"carrier confirmed pickup for parcel \#(i)","idempotency_key":"k-\#(i)","decision":"\#(decisions[i % decisions.count])","approver":null}"#
            chunk += "\n"
            if chunk.utf8.count > 4 << 20 {
                handle.write(Data(chunk.utf8))
                chunk = ""
            }
        }
        handle.write(Data(chunk.utf8))
    }
}
