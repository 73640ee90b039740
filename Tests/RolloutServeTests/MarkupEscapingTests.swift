import Foundation
import RolloutReports
import Testing

@testable import RolloutServe

/// Text an agent wrote, on serve's pages and in its Slack messages: a markup character is escaped however
/// the characters around it join it into one grapheme cluster (a prepended letter before it, a combining
/// mark after it), which made `<form action=/approvals/4/decide>` real markup on the approvals page.
@Suite("Escaping by code point")
struct MarkupEscapingTests {
    static let joined: [String] = [
        "\u{0D4E}<form action=/approvals/4/decide method=post>\u{0301}",  // prepend letter; combining mark
        "<a href=https://evil.example/>\u{0301}here</a>\u{0301}",
        "\"\u{0301} onfocus=x \u{0301}'\u{0301}",
        "&\u{0301}lt;<!--\u{0301}",
        "\u{0600}<meta http-equiv=refresh content=0>",  // Arabic number sign: a prepended mark
    ]

    @Test("HTML: no <, >, quote or apostrophe of the text reaches the page, and & only as an entity", arguments: joined)
    func html(_ text: String) {
        let escaped = HTMLText.escape(text)
        for markup in ["<", ">", "\"", "'"] { #expect(!escaped.unicodeScalars.contains(markup.unicodeScalars.first!), "\(escaped.debugDescription)") }
        // Every & begins an entity this escaper wrote.
        let amps = escaped.unicodeScalars.filter { $0 == "&" }.count
        // Counted in bytes: String's own searches compare grapheme clusters too ("&gt;" + U+0301 would not match).
        let bytes = Array(escaped.utf8)
        let entities = ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"].reduce(0) { count, entity in
            let e = Array(entity.utf8)
            return count + (0...max(bytes.count - e.count, 0)).filter { bytes.count >= e.count && Array(bytes[$0..<$0 + e.count]) == e }.count
        }
        #expect(amps == entities, "\(escaped.debugDescription)")
    }

    @Test("Slack: no < or > of the text reaches the message, nor a backtick", arguments: joined)
    func slack(_ text: String) {
        let escaped = Notifier.slackEscaped(text)
        for markup in ["<", ">", "`"] { #expect(!escaped.unicodeScalars.contains(markup.unicodeScalars.first!), "\(escaped.debugDescription)") }
    }
}
