import Foundation
import RolloutCore
import RolloutGate
import RolloutReports
import RolloutStore
import RolloutTestSupport
import Testing

/// The compliance listing reads the calls on one thread and hands them, a chunk at a time, to the
/// caller's thread, which writes the files: what the caller gets must not depend on that split, on
/// either engine (PostgreSQL is read through the one store, verification first).
@Suite("Compliance listing: read on one thread, handed over in chain order; a writer that fails stops it")
struct ComplianceCollectorTests {
    /// Five days of steady traffic: 1,440 calls, several of the listing's chunks and a partial last one.
    static func store(_ kind: StoreKind) throws -> AuditStore {
        let store = try TestStores.make(kind)
        _ = try store.append(AuditTraffic.background(days: 5))
        return store
    }

    static let options = ComplianceOptions(from: Timestamp.parse("2026-11-01T00:00:00Z")!, to: Timestamp.parse("2026-11-08T00:00:00Z")!,
                                           scoreAnomalies: false)

    @Test("every call reaches onRows once, in chain order, with its JSON line; the rows digest is the SHA-256 of those lines",
          arguments: TestStores.kinds)
    func order(_ kind: StoreKind) throws {
        let store = try Self.store(kind)
        var rows: [ComplianceRow] = []
        var lines: [UInt8] = []
        var chunks = 0
        let output = try ComplianceCollector.collect(store: store, tenants: nil, policy: nil, options: Self.options, now: Date(),
                                                     rolloutVersion: "test") { chunk, chunkLines in
            chunks += 1
            rows += chunk
            lines += chunkLines
        }
        #expect(rows.map(\.seq) == Array(1...1440))
        #expect(chunks > 1)
        #expect(lines == Array(rows.map(ComplianceRowFormat.jsonLine).joined().utf8))
        #expect(output.report.rows == 1440)
        #expect(output.report.rowsDigest == "sha256:" + JSONValue.digest(canonicalBytes: lines))
        #expect(output.report.chain.ok)
    }

    @Test("stage changes come from the listing's own pass: apart from the calls, oldest first, only the period's", arguments: TestStores.kinds)
    func stageChanges(_ kind: StoreKind) throws {
        let store = try TestStores.make(kind)
        let calls = AuditTraffic.background(days: 2)
        func stage(_ ts: String, to: String) -> AuditEvent {
            AuditEvent(ts: Timestamp.parse(ts)!, tenant: "acme", actor: "maria.lopez", tool: "rollout.stage", reason: "to \(to)",
                       decision: "stage_promote")
        }
        // Before the period, among its calls, after its last call, a lookalike tool that is an agent's call, and an
        // imported line that says it promoted (no stage changed here: helper-70 saw one listed as a stage change).
        var imported = stage("2026-11-05T00:02:00Z", to: "nowhere")
        imported.details["imported"] = "forged.jsonl"
        _ = try store.append([stage("2026-10-31T12:00:00Z", to: "shadow")] + calls.prefix(100) + [stage("2026-11-01T08:17:30Z", to: "soft")]
                             + calls.dropFirst(100) + [stage("2026-11-05T00:00:00Z", to: "broad"),
                                                       AuditEvent(ts: Timestamp.parse("2026-11-05T00:01:00Z")!, tenant: "acme", actor: "agent-1",
                                                                  tool: "rollout_stage", decision: "executed"), imported])
        var rows: [ComplianceRow] = []
        let output = try ComplianceCollector.collect(store: store, tenants: nil, policy: nil, options: Self.options, now: Date(),
                                                     rolloutVersion: "test") { chunk, _ in rows += chunk }
        #expect(output.report.stageChanges.map(\.seq) == [102, Int64(calls.count + 3)])
        #expect(output.report.stageChanges.map(\.reason) == ["to soft", "to broad"])
        #expect(rows.count == calls.count + 1 && !rows.contains { $0.tool == "rollout.stage" } && rows.last?.tool == "rollout_stage")
        #expect(output.report.rows == calls.count + 1)
    }

    @Test("a writer that fails: its error is the one collect throws, and no chunk reaches it after", arguments: TestStores.kinds)
    func failingWriter(_ kind: StoreKind) throws {
        struct DiskFull: Error {}
        let store = try Self.store(kind)
        var chunks = 0
        #expect(throws: DiskFull.self) {
            _ = try ComplianceCollector.collect(store: store, tenants: nil, policy: nil, options: Self.options, now: Date(),
                                                rolloutVersion: "test") { _, _ in
                chunks += 1
                if chunks == 2 { throw DiskFull() }
            }
        }
        #expect(chunks == 2)
    }
}
