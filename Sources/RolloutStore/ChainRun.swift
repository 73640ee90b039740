import Foundation
import RolloutCore

/// A run of consecutive audit rows walked in order: each row linked to the one before it in the run
/// and checked on its own (`ChainRowCheck`), stopping at the first problem. A run does not know the row
/// before it: its first row's position and link are checked when runs are joined (`ChainWalk`), so
/// runs are walked on several threads at once and joined in order, and the first break found is the
/// one a walk row by row would have found.
struct ChainRun: Sendable {
    /// The first row's position and the hash it links to; nil for an empty run.
    var first: (seq: Int64, prevHash: String)?
    /// The last row that holds.
    var last: ChainHead? {
        get { lastSeq.map { ChainHead(seq: $0, hash: String(decoding: lastHash, as: UTF8.self)) } }
        set {
            lastSeq = newValue?.seq
            lastHash = Array((newValue?.hash ?? "").utf8)
        }
    }
    /// Rows that hold, before the problem.
    var count = 0
    var problem: ChainVerification.Break?
    /// Whether the anchored event is among the rows that hold.
    var anchorSeen = false
    /// The anchored event's position, if any.
    let anchorSeq: Int64?
    /// The last row that holds, kept as bytes: a run of a million rows makes no string per row.
    private var lastSeq: Int64?
    private var lastHash: [UInt8] = []

    init(anchorSeq: Int64?) {
        self.anchorSeq = anchorSeq
    }

    /// Walks `rows` (ordered by seq); `local[i]` is `rows[i]`'s own problem.
    init(_ rows: [SQLRow], local: [ChainVerification.Break?], anchorSeq: Int64?) {
        self.init(anchorSeq: anchorSeq)
        for (index, row) in rows.enumerated() where problem == nil {
            add(row, local: local[index])
        }
    }

    /// Walks one more row (the next by seq), `local` its own problem; a run with a problem takes no
    /// more rows.
    mutating func add(_ row: some ChainRowValues, local: ChainVerification.Break?) {
        guard problem == nil else { return }
        let seq = row.int(ChainRowCheck.Column.seq)
        if let lastSeq {
            let linked = Self.follows(seq, lastSeq) && row.withText(ChainRowCheck.Column.prevHash) { previous in
                lastHash.withUnsafeBufferPointer { last in
                    previous.count == last.count && (last.isEmpty || memcmp(previous.baseAddress!, last.baseAddress!, last.count) == 0)
                }
            }
            if !linked, let problem = Self.linkProblem(seq: seq, prevHash: row.string(ChainRowCheck.Column.prevHash), after: last!) {
                self.problem = problem
                return
            }
        } else {
            first = (seq, row.string(ChainRowCheck.Column.prevHash))
        }
        if let local {
            problem = local
            return
        }
        if seq == anchorSeq { anchorSeen = true }
        lastSeq = seq
        lastHash.removeAll(keepingCapacity: true)
        row.withText(ChainRowCheck.Column.hash) { lastHash.append(contentsOf: $0) }
        count += 1
    }

    /// Walks the rows the queries give, one query after the other (each ordered by seq), streamed:
    /// SQLite's read in place, no string made per column.
    static func walk(_ sql: any SQLConnection, _ queries: [(String, [SQLValue])], _ check: ChainRowCheck) throws -> ChainRun {
        var run = ChainRun(anchorSeq: check.anchor?.seq)
        for (query, arguments) in queries where run.problem == nil {
            if let sqlite = sql as? SQLiteConnection {
                try sqlite.eachView(query, arguments) { row in
                    if run.problem == nil { run.add(row, local: check.problem(row)) }
                }
            } else {
                try sql.each(query, arguments) { row in
                    if run.problem == nil { run.add(row, local: check.problem(row)) }
                }
            }
        }
        return run
    }

    /// Whether `seq` is the position right after `previous` (never overflowing).
    static func follows(_ seq: Int64, _ previous: Int64) -> Bool {
        previous < Int64.max && seq == previous + 1
    }

    /// Why a row at `seq` linking to `prevHash` cannot follow `previous`, or nil when it can.
    static func linkProblem(seq: Int64, prevHash: String, after previous: ChainHead) -> ChainVerification.Break? {
        if !follows(seq, previous.seq) {
            // Between them neither bound overflows: previous < seq - 1 < seq.
            let detail = seq > previous.seq
                ? "event \(seq) follows event \(previous.seq); events \(previous.seq + 1)...\(seq - 1) are missing"
                : "event \(seq) follows event \(previous.seq): it is out of sequence (added or renumbered)"
            return .init(seq: seq, problem: .missing, detail: detail)
        }
        if prevHash != previous.hash {
            return .init(seq: seq, problem: .brokenLink,
                         detail: "event \(seq) links to \(prevHash.prefix(12))…, but event \(previous.seq) hashes to \(previous.hash.prefix(12))…")
        }
        return nil
    }
}

/// Runs joined in chain order: where the chain stands, how many events held, whether the anchored one
/// was seen.
struct ChainWalk {
    var previous = ChainHead.empty
    var checked = 0
    var anchorSeen = false
    /// Called with 100k, 200k, … as the count of events that held passes each.
    var progress: ((Int) -> Void)?

    /// Joins the next run; its first break (its link to the chain so far, then its own), or nil.
    mutating func join(_ run: ChainRun) -> ChainVerification.Break? {
        if let first = run.first, let problem = ChainRun.linkProblem(seq: first.seq, prevHash: first.prevHash, after: previous) {
            return problem
        }
        if run.anchorSeen { anchorSeen = true }
        let before = checked
        checked += run.count
        if let progress {
            var mark = (before / 100_000 + 1) * 100_000
            while mark <= checked {
                progress(mark)
                mark += 100_000
            }
        }
        if let problem = run.problem { return problem }
        if let last = run.last { previous = last }
        return nil
    }
}
