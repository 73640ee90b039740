import Foundation
import RolloutCore

/// The report's charts as inline SVG: no script, no network, the same on screen and on paper.
public enum SVGChart {
    /// The colour of each decision category, used by the charts and the legend.
    public static func colour(_ category: DecisionCategory) -> String {
        switch category {
        case .executed: "#2e7d32"
        case .refused: "#c62828"
        case .pending: "#f9a825"
        case .shadowed: "#6a1b9a"
        case .replayed: "#1565c0"
        case .dryRun: "#00838f"
        case .rolledBack: "#ef6c00"
        case .attempted: "#757575"
        case .intent: "#9e9e9e"
        case .other: "#bdbdbd"
        }
    }

    /// A stacked bar per day, one colour per decision category, with a y axis and a legend.
    public static func dailyBars(_ days: [ComplianceReport.Day], width: Int = 720, height: Int = 240) -> String {
        let left = 48.0, right = 8.0, top = 10.0, bottom = 44.0
        let plotW = Double(width) - left - right, plotH = Double(height) - top - bottom
        let order = DecisionCategory.allCases
        let maxTotal = max(1, days.map { $0.counts.values.reduce(0, +) }.max() ?? 1)
        // Whole-number ticks at a round step, the top one at or above the highest bar.
        let step = max(1, niceCeiling(Double(maxTotal) / 4))
        let ticks = Int((Double(maxTotal) / step).rounded(.up))
        let scale = step * Double(ticks)
        var out = ##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \##(width) \##(height)" role="img" aria-label="Calls per day by decision" class="chart">"##
        for i in 0...ticks {
            let v = step * Double(i), y = top + plotH - plotH * v / scale
            out += ##"<line x1="\##(f(left))" y1="\##(f(y))" x2="\##(f(left + plotW))" y2="\##(f(y))" stroke="#e0e0e0"/>"##
            out += ##"<text x="\##(f(left - 4))" y="\##(f(y + 3))" text-anchor="end" font-size="9" fill="#555">\##(label(v))</text>"##
        }
        let band = plotW / Double(max(days.count, 1))
        let barW = min(36, max(1, band * 0.8))
        let labelEvery = max(1, Int((Double(days.count) / 12).rounded(.up)))
        for (i, day) in days.enumerated() {
            let x = left + band * Double(i) + (band - barW) / 2
            var y = top + plotH
            for category in order {
                guard let count = day.counts[category], count > 0 else { continue }
                let h = plotH * Double(count) / scale
                y -= h
                out += ##"<rect x="\##(f(x))" y="\##(f(y))" width="\##(f(barW))" height="\##(f(h))" fill="\##(colour(category))"><title>\##(HTMLText.escape(day.day)) \##(category.rawValue): \##(count)</title></rect>"##
            }
            if i % labelEvery == 0 {
                out += ##"<text x="\##(f(x + barW / 2))" y="\##(f(top + plotH + 12))" text-anchor="middle" font-size="9" fill="#555">\##(HTMLText.escape(String(day.day.suffix(5))))</text>"##
            }
        }
        let present = order.filter { c in days.contains { ($0.counts[c] ?? 0) > 0 } }
        var lx = left
        for category in present {
            out += ##"<rect x="\##(f(lx))" y="\##(f(Double(height) - 14))" width="10" height="10" fill="\##(colour(category))"/>"##
            out += ##"<text x="\##(f(lx + 13))" y="\##(f(Double(height) - 5))" font-size="10" fill="#333">\##(category.rawValue)</text>"##
            lx += 20 + Double(category.rawValue.count) * 6
        }
        if days.isEmpty {
            out += ##"<text x="\##(f(left + plotW / 2))" y="\##(f(top + plotH / 2))" text-anchor="middle" font-size="12" fill="#777">no calls in the period</text>"##
        }
        return out + "</svg>"
    }

    /// A row per tenant over the period: anomalies as dots (red: rate, orange: rule, purple: rarity,
    /// blue: value), stage changes as triangles, each with its explanation on hover.
    public static func timeline(from: Date, to: Date, tenants: [String], anomalies: [ComplianceReport.Anomaly], stages: [ComplianceReport.Entry],
                                width: Int = 720) -> String {
        let rows = tenants.isEmpty ? ["(none)"] : tenants
        let left = 90.0, right = 10.0, top = 8.0, rowH = 22.0, bottom = 22.0
        let plotW = Double(width) - left - right
        let height = Int(top + rowH * Double(rows.count) + bottom)
        let span = max(1, to.timeIntervalSince(from))
        func x(_ d: Date) -> Double { left + plotW * min(1, max(0, d.timeIntervalSince(from) / span)) }
        var out = ##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \##(width) \##(height)" role="img" aria-label="Anomalies and stage changes over the period" class="chart">"##
        for (i, tenant) in rows.enumerated() {
            let y = top + rowH * Double(i) + rowH / 2
            out += ##"<text x="\##(f(left - 6))" y="\##(f(y + 3))" text-anchor="end" font-size="10" fill="#333">\##(HTMLText.escape(String(tenant.prefix(14))))</text>"##
            out += ##"<line x1="\##(f(left))" y1="\##(f(y))" x2="\##(f(left + plotW))" y2="\##(f(y))" stroke="#e0e0e0"/>"##
            for a in anomalies where a.tenant == tenant {
                let colour = ["rate": "#c62828", "rules": "#ef6c00", "rarity": "#6a1b9a", "values": "#1565c0"][a.family] ?? "#444"
                out += ##"<circle cx="\##(f(x(a.start)))" cy="\##(f(y))" r="4.5" fill="\##(colour)" fill-opacity="0.8"><title>\##(HTMLText.escape("\(Timestamp.formatSeconds(a.start)) \(a.family)/\(a.signal): \(a.message)"))</title></circle>"##
            }
            for s in stages where s.tenant == tenant {
                let cx = x(s.ts)
                let label = "\(Timestamp.formatSeconds(s.ts)) \(s.details["action"]?.stringValue ?? s.decision) \(s.details["from"]?.stringValue ?? "")→\(s.details["to"]?.stringValue ?? "") by \(s.actor)"
                out += ##"<path d="M\##(f(cx)) \##(f(y - 8)) l5 8 l-10 0 z" fill="#37474f"><title>\##(HTMLText.escape(label))</title></path>"##
            }
        }
        let axisY = top + rowH * Double(rows.count) + 12
        for i in 0...4 {
            let d = from.addingTimeInterval(span * Double(i) / 4)
            out += ##"<text x="\##(f(left + plotW * Double(i) / 4))" y="\##(f(axisY))" text-anchor="\##(i == 0 ? "start" : i == 4 ? "end" : "middle")" font-size="9" fill="#555">\##(Timestamp.day(d))</text>"##
        }
        return out + "</svg>"
    }

    static func niceCeiling(_ v: Double) -> Double {
        guard v > 1 else { return 1 }
        let magnitude = pow(10, floor(log10(v)))
        for step in [1.0, 2, 2.5, 5, 10] where step * magnitude >= v { return step * magnitude }
        return 10 * magnitude
    }

    static func label(_ v: Double) -> String {
        v >= 10_000 ? String(format: "%.0fk", v / 1000) : v == v.rounded() ? String(Int(v)) : String(format: "%.1f", v)
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }
}
