import Foundation
import RolloutCore
import RolloutStore
import RolloutTestSupport
import Testing

/// The dashboard's page query on both engines: newest first, pages that neither skip nor repeat a row
/// when times do not rise with sequence numbers, literal search, decision filters, intents hidden, and
/// the chart's counts added up from the events appended since.
@Suite("dashboard queries")
struct DashboardQueryTests {
    /// 30 imported calls whose times run backwards and forwards (an imported log), one searchable
    /// reason with a literal `%`, and two intents.
    static func store(_ kind: StoreKind) throws -> AuditStore {
        let store = try TestStores.make(kind)
        var lines: [String] = []
        for i in 0..<30 {
            let minute = (i * 7) % 30  // every minute once, out of order
            let decision = i == 5 ? "cap_exceeded" : (i == 6 || i == 7 ? "intent" : "executed")
            let reason = i == 12 ? "refund 100% of order 12" : "carrier confirmed pickup \(i)"
            lines.append(#"{"ts":"2026-11-20T10:\#(String(format: "%02d", minute)):00Z","tenant":"acme","actor":"agent-1","tool":"orders.update","row_count":1,"reason":"\#(reason)","idempotency_key":"k\#(i)","decision":"\#(decision)"}"#)
        }
        let path = TestPaths.temporaryDirectory("dashboard").appendingPathComponent("events.jsonl").path
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        try store.importFile(path)
        return store
    }

    static let day = (Timestamp.parse("2026-11-20T00:00:00Z")!, Timestamp.parse("2026-11-21T00:00:00Z")!)

    @Test("pages of 7 cover every call once, newest first, intents left out", arguments: TestStores.kinds)
    func pages(kind: StoreKind) throws {
        let store = try Self.store(kind)
        var query = DashboardQuery(from: Self.day.0, to: Self.day.1, limit: 7)
        var seen: [ComplianceRow] = []
        var pages = 0
        while true {
            let page = try store.dashboard(query)
            seen += page.rows
            pages += 1
            guard let next = page.next else { break }
            query.before = DashboardCursor(next.description)
            #expect(query.before == next)
        }
        #expect(pages == 4 && seen.count == 28, "\(pages) pages, \(seen.count) rows")
        #expect(Set(seen.map(\.seq)).count == 28, "no row twice")
        #expect(seen.map(\.ts) == seen.map(\.ts).sorted(by: >), "newest first")
        #expect(!seen.contains { $0.decision == "intent" })
        query = DashboardQuery(from: Self.day.0, to: Self.day.1, categories: [.intent])
        #expect(try store.dashboard(query).rows.count == 2, "intents when asked for")
    }

    @Test("search is literal and ignores case; a decision filter keeps its category", arguments: TestStores.kinds)
    func search(kind: StoreKind) throws {
        let store = try Self.store(kind)
        func rows(_ search: String?, _ categories: Set<DecisionCategory> = []) throws -> [ComplianceRow] {
            try store.dashboard(DashboardQuery(from: Self.day.0, to: Self.day.1, search: search, categories: categories)).rows
        }
        #expect(try rows("100%").map(\.reason) == ["refund 100% of order 12"])
        #expect(try rows("REFUND 100").count == 1)
        #expect(try rows("10_%").isEmpty, "_ is a character, not a wildcard")
        #expect(try rows("pickup 2").count == 11, "pickup 2, 20-29")
        #expect(try rows(nil, [.refused]).map(\.decision) == ["cap_exceeded"])
        #expect(try rows("ACME").count == 28, "the tenant, through the body")
        #expect(try rows("100%\u{0}").count == 1 && rows("\u{0}").count == 28, "a NUL is no part of a search")
    }

    @Test("a search finds only what the page shows: a secret value kept in the clear is found by no search, and pages of matches neither skip nor repeat",
          arguments: TestStores.kinds)
    func searchSeesWhatIsShown(kind: StoreKind) throws {
        let store = try TestStores.make(kind)
        // 300 calls (more than one batch of the post-filter), each with a detail recorded in the clear, which the policy
        // has marked secret since, and a visible note.
        let lines = (0..<300).map { i in
            #"{"ts":"2026-11-20T10:\#(String(format: "%02d", i % 60)):\#(String(format: "%02d", i / 60))Z","tenant":"acme","actor":"agent-1","tool":"orders.update","row_count":1,"reason":"carrier confirmed pickup","idempotency_key":"k\#(i)","decision":"executed","details":{"loyalty_code":"s3cr3t-\#(i)","note":"n-\#(i)"}}"#
        }
        let path = TestPaths.temporaryDirectory("dashboard-secrets").appendingPathComponent("events.jsonl").path
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        try store.importFile(path)
        let redactor = Redactor(secretFields: ["loyalty_code"])
        func query(_ search: String, limit: Int = 50, shown: Bool = true) -> DashboardQuery {
            var query = DashboardQuery(from: Self.day.0, to: Self.day.1, search: search, limit: limit)
            if shown { query.shown = { redactor.redact($0) } }
            return query
        }
        #expect(try store.dashboard(query("s3cr3t", shown: false)).rows.count == 50, "as stored, the value is there to find")
        for search in ["s3cr3t", "S3CR3T-299", "cr3t-1"] {
            let page = try store.dashboard(query(search))
            #expect(page.rows.isEmpty && page.next == nil, "\(search): \(page.rows.map(\.seq))")
        }
        #expect(try store.dashboard(query("N-299")).rows.count == 1)
        // n-1, n-10 to n-19, n-100 to n-199: 111 calls, in pages of 7.
        var seen: [Int64] = []
        var q = query("n-1", limit: 7)
        while true {
            let page = try store.dashboard(q)
            #expect(page.rows.count == 7 || page.next == nil)
            seen += page.rows.map(\.seq)
            guard let next = page.next else { break }
            q.before = next
        }
        #expect(seen.count == 111 && Set(seen).count == 111, "\(seen.count) rows, \(Set(seen).count) distinct")
        // Words found only in secrets, with a page allowed to look at 256 rows: short pages that say where to go on, then the end.
        var bounded = query("s3cr3t")
        bounded.examineLimit = 256
        var pages = 0
        while true {
            let page = try store.dashboard(bounded)
            #expect(page.rows.isEmpty)
            pages += 1
            guard let next = page.next, pages < 10 else { break }
            bounded.before = next
        }
        #expect(pages == 2, "300 rows in pages of 256: \(pages)")
    }

    @Test("daily counts: everything once, then only what was appended since", arguments: TestStores.kinds)
    func dailyCounts(kind: StoreKind) throws {
        let store = try Self.store(kind)
        let all = try store.dailyCounts(after: 0)
        #expect(all.counts.reduce(0) { $0 + $1.count } == 30 && all.lastSeq == 30)
        #expect(all.counts.first { $0.decision == "executed" }?.count == 27 && all.counts.allSatisfy { $0.day == "2026-11-20" })
        let none = try store.dailyCounts(after: all.lastSeq)
        #expect(none.counts.isEmpty && none.lastSeq == 30)
    }
}
