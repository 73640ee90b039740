import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

@Suite("rollout fuzz --mcp against servers that misbehave")
struct MCPFailureTests {
    @Test("a server that exits, hangs, prints garbage or a line too long to read ends the run with a clear error and exit 3, within the timeout",
          .enabled(if: TinyServer.available, "python3 is missing"),
          arguments: [("exit", "exited (status 7)"), ("hang", "did not answer tools/call"), ("garbage", "not JSON-RPC"),
                      ("huge", "over the limit of 16777216 bytes, not read")])
    func misbehaving(mode: String, message: String) throws {
        let dir = TestPaths.temporaryDirectory()
        let started = Date()
        let result = try RolloutBinary.run(
            ["fuzz", "--dir", TinyServer.policyFolder, "--mcp", "python3 \(TinyServer.script)", "--call-timeout", "3s",
             "--junit", dir.appendingPathComponent("fuzz.xml").path, "--repro-dir", dir.appendingPathComponent("repro").path],
            environment: ["TINY_MODE": mode])
        let seconds = Date().timeIntervalSince(started)
        #expect(result.status == 3, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        // The hanging server never answers while the run lives: ending in minutes shows the run gave up at its timeout. (How
        // soon after it is the machine's business: the suites beside this one share its two cores.)
        #expect(seconds < 3 + 120, "took \(seconds)s")
    }

    @Test("a well-behaved tiny server is fuzzed to the end: its missing controls are enforcement gaps",
          .enabled(if: TinyServer.available, "python3 is missing"))
    func wellBehaved() throws {
        let dir = TestPaths.temporaryDirectory()
        let result = try RolloutBinary.run(
            ["fuzz", "--dir", TinyServer.policyFolder, "--mcp", "python3 \(TinyServer.script)", "--calls", "300",
             "--junit", dir.appendingPathComponent("fuzz.xml").path, "--repro-dir", dir.appendingPathComponent("repro").path])
        #expect(result.status == 1)
        #expect(result.stdout.contains("ENFORCEMENT  items.create  reason  no reason"), "\(result.stdout)")
        #expect(!result.stdout.contains("items.create  names"), "the tiny server refuses unknown names")
        if JUnitValidation.available {
            #expect(try JUnitValidation.validate(dir.appendingPathComponent("fuzz.xml").path).status == 0)
        }
    }

    @Test("the summary's call count is the number of tool calls the server received",
          .enabled(if: TinyServer.available, "python3 is missing"), arguments: [40, 300])
    func callCountOnTheWire(budget: Int) throws {
        let dir = TestPaths.temporaryDirectory()
        let log = dir.appendingPathComponent("calls.log").path
        let result = try RolloutBinary.run(
            ["fuzz", "--dir", TinyServer.policyFolder, "--mcp", "python3 \(TinyServer.script)", "--calls", String(budget), "--format", "json",
             "--junit", dir.appendingPathComponent("fuzz.xml").path, "--repro-dir", dir.appendingPathComponent("repro").path],
            environment: ["TINY_COUNT": log])
        #expect(result.status == 1, "\(result.stderr)")
        let json = try JSONValue.parse(result.stdout)
        let received = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").count
        #expect(json["calls"]?.intValue == received, "summary \(json["calls"]?.canonicalText ?? "-"), on the wire \(received)")
        #expect(received > 0)
        let text = try RolloutBinary.run(
            ["fuzz", "--dir", TinyServer.policyFolder, "--mcp", "python3 \(TinyServer.script)", "--calls", String(budget),
             "--junit", dir.appendingPathComponent("fuzz2.xml").path, "--repro-dir", dir.appendingPathComponent("repro2").path],
            environment: ["TINY_COUNT": log + "2"])
        let again = try String(contentsOfFile: log + "2", encoding: .utf8).split(separator: "\n").count
        #expect(text.stdout.contains("\(again) calls in "), "\(text.stdout.prefix(2000))")
    }
}
