import RolloutStore

/// Events per bucket of the tenant, and of each tool and actor (by vocabulary id), counted as the
/// scoring pass streams: the series the rate signal judges. Only events from `fromMillis` (the later of
/// the history's start and the buckets' origin) are counted.
struct RateCounter {
    typealias Series = [(bucket: Int64, count: Int)]
    let originMillis: Int64
    let bucketMillis: Int64
    let fromMillis: Int64
    private(set) var tenant: Series = []
    private(set) var tools: [Series] = []
    private(set) var actors: [Series] = []
    /// Events counted per tool and per actor id.
    private(set) var toolEvents: [Int] = []
    private(set) var actorEvents: [Int] = []

    init(originMillis: Int64, bucketMillis: Int64, fromMillis: Int64) {
        self.originMillis = originMillis
        self.bucketMillis = bucketMillis
        self.fromMillis = fromMillis
    }

    mutating func count(ms: Int64, tool: Int32, actor: Int32) {
        guard ms >= fromMillis else { return }
        let bucket = (ms - originMillis) / bucketMillis
        Self.add(bucket, to: &tenant)
        Self.add(bucket, at: Int(tool), to: &tools, totals: &toolEvents)
        Self.add(bucket, at: Int(actor), to: &actors, totals: &actorEvents)
    }

    /// The bucket of an event at `ms`, or nil when it is before `fromMillis` and not counted.
    func bucket(ms: Int64) -> Int64? {
        ms >= fromMillis ? (ms - originMillis) / bucketMillis : nil
    }

    @inline(__always)
    private static func add(_ bucket: Int64, at index: Int, to all: inout [Series], totals: inout [Int]) {
        if index >= all.count {
            all.append(contentsOf: repeatElement([], count: index - all.count + 1))
            totals.append(contentsOf: repeatElement(0, count: index - totals.count + 1))
        }
        add(bucket, to: &all[index])
        totals[index] += 1
    }

    @inline(__always)
    private static func add(_ bucket: Int64, to series: inout Series) {
        if let last = series.last, last.bucket == bucket {
            series[series.count - 1].count += 1
        } else {
            series.append((bucket, 1))
        }
    }

    /// The series of one dimension by entity name, with the ids counted into it: ids that name the same
    /// text (bytes that differ but read as one string) are summed into one series.
    func series(_ dimension: RateDimension, tenantName: String, _ vocabulary: ScoringVocabulary) -> [String: (series: Series, ids: [Int])] {
        switch dimension {
        case .tenant:
            return tenant.isEmpty ? [:] : [tenantName: (tenant, [])]
        case .tool, .actor:
            var out: [String: (series: Series, ids: [Int])] = [:]
            for (id, series) in (dimension == .tool ? tools : actors).enumerated() where !series.isEmpty {
                let name = vocabulary.name(Int32(id))
                out[name] = out[name].map { (Self.merge($0.series, series), $0.ids + [id]) } ?? (series, [id])
            }
            return out
        }
    }

    /// Two series in bucket order summed into one.
    static func merge(_ a: Series, _ b: Series) -> Series {
        var out: Series = []
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if j == b.count || (i < a.count && a[i].bucket < b[j].bucket) {
                out.append(a[i]); i += 1
            } else if i == a.count || b[j].bucket < a[i].bucket {
                out.append(b[j]); j += 1
            } else {
                out.append((a[i].bucket, a[i].count + b[j].count)); i += 1; j += 1
            }
        }
        return out
    }
}
