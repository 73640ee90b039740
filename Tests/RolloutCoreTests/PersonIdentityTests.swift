import RolloutCore
import Testing

/// Four-eyes compares people: every way of writing one name the same, so a requester cannot approve
/// their own write by typing their name differently.
@Suite("person identities")
struct PersonIdentityTests {
    @Test("one person, however the name is typed", arguments: [
        "Maria.Lopez", " maria.lopez ", "MARIA.LOPEZ", "ｍａｒｉａ.lopez", "maria.lopez\u{2060}", "maria.lopez\u{200F}", "\u{FEFF}maria.lopez",
        "maria.lo\u{034F}pez", "maria.lopez\u{180E}", "maria.lo\u{00AD}pez", "MARIA.LOPEZ\u{0307}", "MARİA.LOPEZ", "m\u{0430}ria.lopez",
        "maria\u{2024}lopez", "maria.lopez\u{200B}", "maria\u{00A0}.lopez", "maria.lop\u{0435}z", "mari\u{0301}a.lopez",
    ])
    func same(variant: String) {
        #expect(PersonIdentity.same(variant, "maria.lopez"), "\(variant.unicodeScalars.map { String($0.value, radix: 16) })")
    }

    @Test("one agent, whatever dash its name is typed with (found by an adversarial review: agent\u{2010}1 approved agent-1's write)",
          arguments: ["agent\u{2010}1", "agent\u{2011}1", "agent\u{2013}1", "agent\u{2212}1", " agent\u{2012}1", "AGENT\u{FE63}1"])
    func dashes(variant: String) {
        #expect(PersonIdentity.same(variant, "agent-1"))
    }

    @Test("a letter beyond ASCII no rule maps could be any letter (found by an adversarial review: dev.pateӏ with a Cyrillic palochka approved dev.patel's write)",
          arguments: [("dev.pate\u{04CF}", "dev.patel"), ("dev.p\u{0251}tel", "dev.patel"), ("\u{0142}ukasz", "lukasz"), ("s\u{00F8}ren", "soren"),
                      ("dev.pa\u{A4F2}el", "dev.patel"), ("\u{0434}ev.patel", "dev.patel")])
    func unmappedLetters(a: String, b: String) {
        #expect(PersonIdentity.couldBeSame(a, b), "\(a.unicodeScalars.map { String($0.value, radix: 16) })")
    }

    @Test("an allow-list is not widened by letters no rule maps: dev.pa\u{A4F2}el is not the listed dev.patel, dev.pateӏ (mapped) is")
    func allowListIsStrict() {
        #expect(!PersonIdentity.same("dev.pa\u{A4F2}el", "dev.patel") && PersonIdentity.couldBeSame("dev.pa\u{A4F2}el", "dev.patel"))
        #expect(PersonIdentity.same("dev.pate\u{04CF}", "dev.patel"))
    }

    @Test("a Latin letter of the phonetic blocks reads as the letter it is drawn as, and separators do not tell people apart (found by an adversarial review: \u{1D0D}\u{1D00}\u{0280}\u{026A}\u{1D00}.lopez and maria_lopez approved maria.lopez's write)",
          arguments: [("\u{1D0D}\u{1D00}\u{0280}ia.lopez", "maria.lopez"), ("\u{1D0D}\u{1D00}\u{0280}\u{026A}\u{1D00}.lopez", "maria.lopez"),
                      ("\u{1D05}\u{1D07}\u{1D20}.\u{1D18}\u{1D00}\u{1D1B}\u{1D07}\u{029F}", "dev.patel"), ("maria_lopez", "maria.lopez"),
                      ("maria-lopez", "maria.lopez"), ("marialopez", "maria.lopez"), ("maria..lopez", "maria.lopez"), ("\u{0237}ose", "jose"),
                      ("maria+lopez", "maria.lopez"), ("maria'lopez", "maria.lopez"), ("maria/lopez", "maria.lopez"), ("maria@lopez", "maria.lopez"),
                      ("maria\u{2E31}lopez", "maria.lopez"), ("dev.pate\u{2223}", "dev.patel")])
    func phoneticLettersAndSeparators(a: String, b: String) {
        #expect(PersonIdentity.couldBeSame(a, b), "\(a.unicodeScalars.map { String($0.value, radix: 16) })")
    }

    @Test("different people stay different", arguments: [("maria.lopez", "mario.lopez"), ("dev.patel", "dev.patil"), ("agent-1", "agent-2"), ("anna", "ann"),
                                                          ("\u{674E}\u{660E}", "ab"), ("jos\u{00E9}", "josh"), ("\u{0142}\u{0142}\u{0142}", "abc")])
    func different(a: String, b: String) {
        #expect(!PersonIdentity.couldBeSame(a, b))
    }
}
