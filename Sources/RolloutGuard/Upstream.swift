import Foundation
import RolloutCore

/// A tool server the guard stands in front of: a decided write is forwarded to it (with no store lock
/// held), and lookups and reads go through its read tools. `RolloutMCP` implements it over stdio.
public protocol Upstream: AnyObject, Sendable {
    /// The backend name recorded on every event, approval and ledger entry this upstream serves.
    var backend: String { get }
    /// The upstream's own database, read directly (`--observe sqlite:PATH`), when the user gave one.
    var observer: (any StateReader)? { get }
    /// One tool call. Never throws: a failure is an outcome the guard records.
    func call(_ call: ToolCall) async -> UpstreamOutcome
    /// What decides where this upstream writes, as far as the guard can tell, by name: its command line
    /// (`command`), the directory it runs in (`cwd`), each variable its `upstreams.yaml` entry lists
    /// (`env:NAME`, its value) and the database the guard observes (`observe`, its absolute path); for a
    /// server started from a command line without an entry, the whole environment it inherits
    /// (`environment`). Events record keyed digests of them (`details.placement`), and an approval or
    /// rollback runs only where they still match. Variables an entry does not list are not seen.
    var placement: [String: String] { get }
    /// The database observed (`sqlite:PATH`), when it was given on the guard's command line: recorded in
    /// clear on its writes (`details.observed`), so that their approval or rollback observes it again. One
    /// an `upstreams.yaml` entry derives from its variables is not recorded (their values are the entry's
    /// to give, and only their marks go in the log).
    var recordedObserve: String? { get }
}

extension Upstream {
    public var placement: [String: String] { [:] }
    public var recordedObserve: String? { nil }
}

/// Reads an upstream's rows from outside it: before and after values, and whether a write changed only
/// what it asked.
public protocol StateReader: RowReader, Sendable {
    /// Every row of the model's table by key.
    func allRows(model: ModelPolicy) throws -> [JSONValue: [String: JSONValue]]
}

/// What became of a call at the upstream.
public enum UpstreamOutcome: Sendable, Hashable {
    /// The upstream did it. `result` is its MCP tool result (`content`, `structuredContent`, `isError`),
    /// returned to the agent as it came.
    case accepted(result: JSONValue)
    /// The upstream answered that it did not do it.
    case refused(code: String, message: String, result: JSONValue)
    /// The call may or may not have happened.
    case failed(UpstreamFailure)

    /// The MCP result to show the agent, when there is one.
    public var result: JSONValue? {
        switch self {
        case .accepted(let result), .refused(_, _, let result): result
        case .failed: nil
        }
    }

    /// Whether the upstream answered the call, accepting or refusing it (not a failure to answer).
    var wasAnswered: Bool { result != nil }
}

/// How a call to an upstream went wrong.
public enum UpstreamFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// No answer in time; the upstream was stopped and is restarted for the next call.
    case timedOut(seconds: Double, detail: String)
    /// The upstream exited (or closed its output) while the call was in flight.
    case crashed(String)
    /// The upstream wrote something that is not JSON-RPC.
    case garbled(String)
    /// The call never reached the upstream (it could not be started).
    case unavailable(String)
    /// The upstream answered with an error that can come after the write (an internal or server-defined
    /// JSON-RPC error).
    case serverError(code: Int, message: String)
    /// The upstream's answer is not a tool result (`null`, a number...).
    case malformed(String)

    public var description: String {
        switch self {
        case .timedOut(let seconds, let detail): "no answer within \(JSONValue.formatNumber(seconds))s\(detail.isEmpty ? "" : " (\(detail))")"
        case .crashed(let detail): "the upstream exited during the call: \(detail)"
        case .garbled(let detail): "the upstream wrote something that is not JSON-RPC: \(detail)"
        case .unavailable(let detail): "the upstream is not available: \(detail)"
        case .serverError(let code, let message): "the upstream answered with error \(code) (\(LeakDetector.scrub(message))), which does not say whether it wrote"
        case .malformed(let detail): "the upstream's answer does not say what became of the call: \(detail)"
        }
    }

    /// Whether the call certainly did not reach the upstream (so nothing can have happened).
    public var neverSent: Bool {
        if case .unavailable = self { return true }
        return false
    }
}
