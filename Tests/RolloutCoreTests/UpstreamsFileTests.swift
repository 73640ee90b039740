import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

/// `rollout/upstreams.yaml`: an entry's `observe:` may name the variables its `env:` lists, so a server
/// whose database lives where a variable says (OrmAI's demo) is observed without a path written twice.
@Suite("upstreams.yaml: observe names the entry's own variables")
struct UpstreamsFileTests {
    static func load(_ text: String) throws -> UpstreamsFile {
        let path = TestPaths.temporaryDirectory().appendingPathComponent("upstreams.yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return try UpstreamsFile.load(path: path)
    }

    @Test("$NAME and ${NAME} of env: are read from the environment the guard starts in", arguments: [
        ("sqlite:$WORK/demo.db", "sqlite:/tmp/w/demo.db"),
        ("sqlite:${WORK}/demo.db", "sqlite:/tmp/w/demo.db"),
        ("sqlite:${WORK}/${DB}", "sqlite:/tmp/w/x.db"),
        ("sqlite:${WORK}${DB}", "sqlite:/tmp/wx.db"),
        ("sqlite:/fixed/path.db", "sqlite:/fixed/path.db"),
    ])
    func expands(_ observe: String, _ expected: String) throws {
        let file = try Self.load("""
            version: 1
            upstreams:
              demo:
                command: [python3, server.py]
                env: [WORK, DB]
                observe: '\(observe)'
            """)
        let entry = try #require(file.entry("demo"))
        #expect(entry.observeSpec(in: ["WORK": "/tmp/w", "DB": "x.db", "OTHER": "no"]) == expected)
    }

    @Test("observe naming a variable env: does not list, a $ that starts no name, or a ${ that does not close after one is an error naming the file, line and field, not a path kept as written", arguments: [
        ("sqlite:$HOME/demo.db", "$HOME"),
        ("sqlite:${WORK/demo.db", "'${WORK/'"), ("sqlite:${WORK", "'${WORK'"), ("sqlite:/x/${}/demo.db", "'${}'"),
        ("sqlite:${WORK}/${DB", "'${DB'"), ("sqlite:$/demo.db", "'$/'"), ("sqlite:$WORK}/demo.db", "'$WORK}'"),
    ])
    func unclosed(_ observe: String, _ named: String) throws {
        let error = try #require(throws: DiagnosticsError.self) {
            try Self.load("""
                version: 1
                upstreams:
                  demo:
                    command: [python3, server.py]
                    env: [WORK, DB]
                    observe: \(observe)
                """)
        }
        let text = "\(error)"
        #expect(text.contains("upstreams.yaml:6") && text.contains("upstreams.demo.observe") && text.contains(named), "\(text)")
    }

    @Test("inherit: says what of the environment the server starts with: all of it, none, or the names listed, with env: always", arguments: [
        ("", nil as [String: String]?),
        ("    inherit: all\n", nil),
        ("    inherit: none\n", ["WORK": "/tmp/w"]),
        ("    inherit: [PATH, HOME, MISSING]\n", ["WORK": "/tmp/w", "PATH": "/usr/bin", "HOME": "/root"]),
    ])
    func inherit(_ line: String, _ start: [String: String]?) throws {
        let file = try Self.load("version: 1\nupstreams:\n  demo:\n    command: [python3, server.py]\n    env: [WORK]\n" + line)
        let entry = try #require(file.entry("demo"))
        #expect(entry.startEnvironment(from: ["WORK": "/tmp/w", "PATH": "/usr/bin", "HOME": "/root", "TENANT": "globex"]) == start)
    }

    @Test("inherit: anything but none, all or a list of variable names is an error naming the line; so are rollout's own secrets, in env: too", arguments: [
        ("inherit: some", "is 'some'"), ("inherit: [PATH, 1X]", "'1X', which is not a variable name"), ("inherit: [PATH, A-B]", "'A-B'"),
        ("inherit: {PATH: /usr/bin}", "upstreams.demo.inherit"),
        ("inherit: [PATH, ROLLOUT_CHAIN_KEY]", "names ROLLOUT_CHAIN_KEY, one of rollout's own secrets"),
        ("env: [ROLLOUT_WEBHOOK_SECRET]", "upstreams.demo.env: names ROLLOUT_WEBHOOK_SECRET"),
        ("env: [ROLLOUT_STORE]", "names ROLLOUT_STORE"),
    ])
    func badInherit(_ line: String, _ says: String) throws {
        let error = try #require(throws: DiagnosticsError.self) {
            try Self.load("version: 1\nupstreams:\n  demo:\n    command: [python3, server.py]\n    \(line)\n")
        }
        #expect("\(error)".contains("upstreams.yaml:5") && "\(error)".contains(says), "\(error)")
    }

    @Test("the OrmAI example observes its demo database where ORMAI_DEMO_WORKDIR says")
    func ormaiExample() throws {
        let file = try UpstreamsFile.load(path: TestPaths.exampleFolder + "/examples/ormai/upstreams.yaml")
        let entry = try #require(file.entry("ormai"))
        #expect(entry.observeSpec(in: ["ORMAI_DEMO_WORKDIR": "/tmp/ormai"]) == "sqlite:/tmp/ormai/demo.db")
    }
}
