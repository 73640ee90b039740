import RolloutCore
import Testing

/// Text shown to a person cannot hide or reorder what follows it.
@Suite("Visible text: what hides or reorders a line is shown as an escape")
struct VisibleTextTests {
    @Test("each character that hides, moves or reorders text is escaped; letters, accents, joiners, tabs and line feeds are kept", arguments: [
        ("approver\u{202E}evil\",\"status\":\"cancelled", "approver\\u{202e}evil\",\"status\":\"cancelled"),  // right-to-left override
        ("a\u{2066}b\u{2069}c", "a\\u{2066}b\\u{2069}c"),                                                   // isolates
        ("acme\u{200B}", "acme\\u{200b}"), ("\u{FEFF}acme", "\\u{feff}acme"), ("soft\u{AD}hyphen", "soft\\u{ad}hyphen"),
        ("\u{1B}[31mred", "\\u{1b}[31mred"), ("over\rwrite", "over\\u{d}write"), ("del\u{7F}", "del\\u{7f}"), ("c1\u{85}", "c1\\u{85}"),
        ("line\u{2028}sep", "line\\u{2028}sep"),
        ("café, naïve, Zürich", "café, naïve, Zürich"), ("e\u{301}", "e\u{301}"), ("می\u{200C}خواهم", "می\u{200C}خواهم"),
        ("👨\u{200D}👩\u{200D}👧", "👨\u{200D}👩\u{200D}👧"), ("two\nlines\tand a tab", "two\nlines\tand a tab"), ("", ""),
        ("🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}", "🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}"),  // a flag's tags
        ("a\u{200F}b", "a\\u{200f}b"),  // a directional mark: hidden, so shown
        ("lamp\u{E0069}\u{E0067}\u{E006E}", "lamp\\u{e0069}\\u{e0067}\\u{e006e}"),  // tags after no flag spell hidden text
        ("🏴\u{E0067}\u{E0062}\u{E0077}\u{E006C}\u{E0073}\u{E007F}x\u{E0078}", "🏴\u{E0067}\u{E0062}\u{E0077}\u{E006C}\u{E0073}\u{E007F}x\\u{e0078}"),  // the flag ends at its cancel tag
        // Review 28, F1: a joiner beside Latin letters, in a run, or at an end shows nothing.
        ("items.up\u{200D}date", "items.up\\u{200d}date"), ("ok\u{200D}\u{200D}\u{200C}", "ok\\u{200d}\\u{200d}\\u{200c}"),
        ("👨\u{200D}\u{200D}👩", "👨\\u{200d}\\u{200d}👩"), ("🏳\u{FE0F}\u{200D}🌈", "🏳\u{FE0F}\u{200D}🌈"), ("क्\u{200D}ष", "क्\u{200D}ष"),
        // Review 28, F2: tags of a flag not recommended for display; selectors after a letter, a digit without a keycap, Han, Cyrillic.
        ("🏴\u{E0069}\u{E0067}\u{E006E}\u{E006F}\u{E0072}\u{E007F}", "🏴\\u{e0069}\\u{e0067}\\u{e006e}\\u{e006f}\\u{e0072}\\u{e007f}"),
        ("ok\u{FE0F}", "ok\\u{fe0f}"), ("1\u{FE0F}", "1\\u{fe0f}"), ("取\u{E0112}", "取\\u{e0112}"), ("а\u{FE00}", "а\\u{fe00}"),
        // Review 26, F2: only a well-formed flag keeps its tags (two to six letters or digits, then the cancel tag).
        ("🏴\u{E0067}\u{E007F}", "🏴\\u{e0067}\\u{e007f}"), ("🏴\u{E0069}\u{E0067}\u{E006E}", "🏴\\u{e0069}\\u{e0067}\\u{e006e}"),
        ("🏴\u{E0061}\u{E0062}\u{E0063}\u{E0064}\u{E0065}\u{E0066}\u{E0067}\u{E007F}", "🏴\\u{e0061}\\u{e0062}\\u{e0063}\\u{e0064}\\u{e0065}\\u{e0066}\\u{e0067}\\u{e007f}"),
        ("🏴\u{E0020}\u{E0041}\u{E007F}", "🏴\\u{e0020}\\u{e0041}\\u{e007f}"),
        // Review 26, F3: one variation selector after what it varies is kept; more, or one after nothing, carry hidden bytes.
        ("❤\u{FE0F}", "❤\u{FE0F}"), ("1\u{FE0F}\u{20E3}", "1\u{FE0F}\u{20E3}"), ("葛\u{E0100}", "葛\\u{e0100}"), ("\u{FE0F}x", "\\u{fe0f}x"),
        // Review 27, F5: an ideographic selector after anything but Han, a second selector, a standard one after Latin.
        ("😀\u{E0100}", "😀\\u{e0100}"), ("x\u{E0148}x\u{E0149}", "x\\u{e0148}x\\u{e0149}"), ("葛\u{E0100}\u{E0101}", "葛\\u{e0100}\\u{e0101}"),
        ("a\u{FE00}", "a\\u{fe00}"),
        ("a\u{3164}b", "a\\u{3164}b"), ("a\u{34F}b", "a\\u{34f}b"), ("a\u{E000}b", "a\\u{e000}b"), ("a\u{FFF9}b", "a\\u{fff9}b"),
    ])
    func escapes(text: String, shown: String) {
        #expect(VisibleText.escapingInvisibles(text) == shown)
    }

    @Test("a value printed inside one line keeps to it: line feeds and tabs are escaped too", arguments: [
        ("orders.get\n#2  acme  maria.lopez  orders.delete  rolled_back", "orders.get\\u{a}#2  acme  maria.lopez  orders.delete  rolled_back"),
        ("a\tb", "a\\u{9}b"), ("a\u{202E}b", "a\\u{202e}b"), ("plain", "plain"),
    ])
    func oneLine(text: String, shown: String) {
        #expect(VisibleText.oneLine(text) == shown)
    }
}
