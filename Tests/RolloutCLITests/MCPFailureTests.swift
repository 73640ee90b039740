import Foundation
import RolloutTestSupport
import Testing

@Suite("rollout fuzz --mcp against servers that misbehave")
struct MCPFailureTests {
    @Test("a server that exits, hangs or prints garbage ends the run with a clear error and exit 3, within the timeout",
          .enabled(if: TinyServer.available, "python3 is missing"),
          arguments: [("exit", "exited (status 7)"), ("hang", "did not answer tools/call"), ("garbage", "not JSON-RPC")])
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
        #expect(seconds < 3 + 10, "took \(seconds)s")
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
}
