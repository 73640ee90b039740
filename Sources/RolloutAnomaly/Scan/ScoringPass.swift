import Foundation
import RolloutCore
import RolloutStore

/// One tenant's events read once, in time order: each event's texts made ids, its rates counted and
/// its rules judged. On SQLite a second, read-only connection reads the events on another thread and
/// hands them over in chunks while this one judges, so reading and judging overlap.
struct ScoringPass {
    private(set) var engine: RuleEngine
    private(set) var rates: RateCounter
    /// The rate signal, judged as the pass reads (nil: judged after it, from the counts).
    private(set) var streams: RateStreams?
    private var reasons: ReasonVerdicts

    init(engine: RuleEngine, rates: RateCounter, streams: RateStreams? = nil, reasons: ReasonVerdicts) {
        self.engine = engine
        self.rates = rates
        self.streams = streams
        self.reasons = reasons
    }

    /// Reads the tenant's events of `from..<to` from `store` (on `reader`, a read-only twin of it,
    /// when there is one) and observes them all.
    mutating func run(_ store: AuditStore, reader: AuditStore?, tenant: String, from: Date, to: Date, chunkSize: Int = 4_096,
                      guardedOnly: Bool = false) throws {
        let valueFields = FieldRule.moneyWords
        guard let reader else {
            try store.scanScoring(tenant: tenant, from: from, to: to, valueFields: valueFields, chunkSize: chunkSize, guardedOnly: guardedOnly) { chunk in
                observe(chunk)
                return true
            }
            finish()
            return
        }
        try Handoff<ScoringChunk>.pipe(produce: { put in
            try reader.scanScoring(tenant: tenant, from: from, to: to, valueFields: valueFields, chunkSize: chunkSize, guardedOnly: guardedOnly) { put($0) }
        }, consume: { observe($0) })
        finish()
    }

    mutating func observe(_ chunk: ScoringChunk) {
        observe(chunk, events: 0..<chunk.count)
        if let last = chunk.times.last { advance(before: last) }
    }

    /// Judges the chunk's events at `events` (ascending: this tenant's, in a chunk of several tenants).
    mutating func observe(_ chunk: ScoringChunk, events: some Sequence<Int>) {
        chunk.bytes.withUnsafeBytes { all in
            for i in events {
                func text(_ column: ScoringChunk.Text) -> UnsafeRawBufferPointer? {
                    chunk.span(column, i).map { UnsafeRawBufferPointer(rebasing: all[$0]) }
                }
                func id(_ column: ScoringChunk.Text) -> Int32 {
                    text(column).map { engine.vocabulary.id($0) } ?? -1
                }
                /// Actor, tool and decision are never null; read as empty if they were.
                func required(_ column: ScoringChunk.Text) -> Int32 {
                    engine.vocabulary.id(text(column) ?? UnsafeRawBufferPointer(start: nil, count: 0))
                }
                let ms = chunk.times[i]
                let actor = required(.actor), tool = required(.tool), decision = required(.decision)
                rates.count(ms: ms, tool: tool, actor: actor)
                let operation = id(.operation)
                let decided = engine.vocabulary.facts(decision)
                let event = ScoringEvent(
                    seq: chunk.seqs[i], tsMillis: ms, actor: actor, tool: tool, hasApprover: chunk.span(.approver, i) != nil,
                    shape: id(.shape), rowCount: chunk.rowCounts[i],
                    key: text(.idempotencyKey).map { TextDigest($0) }, effect: text(.effect).map { TextDigest($0) },
                    fields: chunk.fieldsTexts.isEmpty ? nil : chunk.fieldsChanged(i),
                    category: decided.category, isIdempotencyConflict: decided.isIdempotencyConflict, isPendingApproval: decided.isPendingApproval,
                    isDelete: operation >= 0 && engine.vocabulary.facts(operation).isDelete)
                let problem = event.category == .executed ? reasons.problem(text(.reason), tool: tool, toolName: engine.vocabulary.name(tool)) : nil
                let empty = UnsafeRawBufferPointer(start: nil, count: 0)
                engine.observe(event, reasonProblem: problem,
                               spellings: .init(actor: text(.actor) ?? empty, tool: text(.tool) ?? empty, key: text(.idempotencyKey)))
            }
        }
    }

    /// Judges the rates of every bucket before the one of `ms`: the pass has read past them, so they are
    /// complete.
    mutating func advance(before ms: Int64) {
        if let bucket = rates.bucket(ms: ms) { streams?.advance(rates, before: bucket) }
    }

    mutating func finish() {
        engine.finish()
        streams?.finish(rates)
    }
}
