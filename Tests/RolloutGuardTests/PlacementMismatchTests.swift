import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

@testable import RolloutGuard

/// An upstream that is never called: only where it writes matters here.
final class PlacedUpstream: Upstream, @unchecked Sendable {
    let backend = "upstream:tiny"
    let observer: (any StateReader)? = nil
    let placement: [String: String]
    init(_ placement: [String: String]) { self.placement = placement }
    func call(_ call: ToolCall) async -> UpstreamOutcome { .failed(.unavailable("not started")) }
}

@Suite("Placement: an approval or rollback runs only where its event says the write was asked for")
struct PlacementMismatchTests {
    static let queued = ["command": "[\"python3\",\"tiny.py\"]", "cwd": "/srv", "env:TINY_DB": "a.db", "observe": "/srv/a.db"]

    /// (name, the approving guard's placement, what the mismatch names; nil when it matches).
    static let cases: [(String, [String: String], String?)] = [
        ("the same", queued, nil),
        ("an observer the queuing guard lacked is no mismatch", queued, nil),
        ("another value", queued.merging(["env:TINY_DB": "b.db"]) { $1 }, "$TINY_DB has another value here"),
        ("another directory", queued.merging(["cwd": "/tmp"]) { $1 }, "another directory"),
        ("no observer", queued.filter { $0.key != "observe" }, "observes no database"),
        ("a variable the entry did not list then", queued.merging(["env:TINY_TENANT": "acme"]) { $1 }, "$TINY_TENANT was not one of"),
        ("limited then (inherit: [PATH]), the whole environment now", queued, "its inherit: changed"),
        ("limited then, limited otherwise now", queued.merging(["inherit": "HOME,PATH"]) { $1 }, "its inherit: changed"),
        ("the whole environment then, limited now: no mismatch", queued.merging(["inherit": "PATH"]) { $1 }, nil),
    ]

    @Test("each recorded part must match", arguments: cases)
    func mismatch(_ name: String, _ current: [String: String], _ names: String?) throws {
        let policy = try RolloutFolder(directory: TestPaths.exampleFolder).loadPolicy()
        let environment = InMemoryEnvironment()
        let guard_ = Guard(policy: policy, stages: FixedStages(.broad), environment: environment, upstream: PlacedUpstream(current))
        // What the queuing guard recorded, marked by the same key (one store).
        var recorded = Self.queued.mapValues { JSONValue.string(environment.redactor.mark(.string($0))) }
        if name.hasPrefix("an observer") { recorded["observe"] = nil }
        if name.hasPrefix("limited then") { recorded["inherit"] = .string(environment.redactor.mark(.string("PATH"))) }
        let found = guard_.placementMismatch(.object(recorded))
        if let names {
            #expect(found?.contains(names) == true, "\(found ?? "nil")")
        } else {
            #expect(found == nil, "\(found ?? "nil")")
        }
    }

    @Test("an event that records no placement is refused by a guard with an upstream, and fine for the built-in domain")
    func noPlacement() throws {
        let policy = try RolloutFolder(directory: TestPaths.exampleFolder).loadPolicy()
        let proxied = Guard(policy: policy, stages: FixedStages(.broad), environment: InMemoryEnvironment(), upstream: PlacedUpstream(Self.queued))
        #expect(proxied.placementMismatch(nil)?.contains("records no placement") == true)
        let builtin = Guard(policy: policy, stages: FixedStages(.broad), environment: InMemoryEnvironment())
        #expect(builtin.placementMismatch(nil) == nil)
    }
}
