import Foundation
import RolloutCore
import Testing

@testable import RolloutMCP

/// What an MCP server's answer says became of a call, when the answer repeats values the agent sent.
@Suite("Refusal detector: the server's word, not the agent's")
struct RefusalDetectorTests {
    enum Kind: String, Sendable { case accepted, pending, refused, notExecuted }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var answer: MCPToolResult
        var sent: JSONValue
        var expected: Kind
        var testDescription: String { name }
    }

    static func text(_ text: String, error: Bool = false) -> MCPToolResult { MCPToolResult(text: text, isError: error) }
    static func json(_ value: JSONValue) -> MCPToolResult { MCPToolResult(text: value.canonicalText, isError: false) }
    static func note(_ text: String) -> JSONValue { ["id": 1, "data": ["notes": .string(text)]] }

    static let cases: [Case] = [
        Case(name: "a row's own status 'pending' is a state, not a queued write",
             answer: json(["id": 1, "status": "pending"]), sent: ["id": 1, "data": ["title": "x"]], expected: .accepted),
        Case(name: "the agent's status 'pending' repeated in the row", answer: json(["id": 1, "status": "pending"]),
             sent: ["id": 1, "data": ["status": "pending"]], expected: .accepted),
        Case(name: "a status that speaks of approval", answer: json(["id": 1, "status": "pending_approval"]), sent: note("x"), expected: .pending),
        Case(name: "a decision that speaks of approval", answer: json(["decision": "Awaiting-Approval"]), sent: note("x"), expected: .pending),
        Case(name: "the server's own sentence about approval", answer: text("Your change is pending approval by a manager"), sent: note("x"), expected: .pending),
        Case(name: "the agent's note about approval, repeated in a JSON row",
             answer: json(["id": 1, "notes": "customer is awaiting approval of the refund"]), sent: note("customer is awaiting approval of the refund"),
             expected: .accepted),
        Case(name: "the agent's note about a rejection, repeated in a sentence",
             answer: text("Updated order 1: carrier rejected the first label"), sent: note("carrier rejected the first label"), expected: .accepted),
        Case(name: "the agent's note as a JSON text writes it (escaped quotes)",
             answer: text(#"Saved {"notes": "the \"rejected\" pile"}"#), sent: note(#"the "rejected" pile"#), expected: .accepted),
        Case(name: "the server's refusal, beside an agent string it contains", answer: text("permission denied"), sent: note("e"), expected: .refused),
        Case(name: "the server's refusal around the agent's words", answer: text("Error: cannot set notes to 'carrier rejected'"),
             sent: note("carrier rejected"), expected: .refused),
        Case(name: "a plain refusal", answer: text("Forbidden: not your order"), sent: note("x"), expected: .refused),
        Case(name: "isError", answer: text("Traceback: disk I/O error", error: true), sent: note("x"), expected: .refused),
        Case(name: "success false from the server", answer: json(["success": false, "error": ["code": "NOT_ALLOWED"]]), sent: note("x"),
             expected: .refused),
        Case(name: "success false that the agent sent, repeated", answer: json(["id": 1, "success": false]),
             sent: ["id": 1, "data": ["success": false]], expected: .accepted),
        Case(name: "a count of changed rows that is zero", answer: json(["updated_count": 0]), sent: note("x"), expected: .refused),
        Case(name: "a zero count that the agent sent, repeated", answer: json(["id": 1, "retry_count": 0]),
             sent: ["id": 1, "data": ["retry_count": 0]], expected: .accepted),
        Case(name: "a decision of a ledger that did not execute", answer: json(["decision": "replayed"]), sent: note("x"), expected: .notExecuted),
        Case(name: "a plain success", answer: json(["success": true, "id": 7]), sent: note("x"), expected: .accepted),
        Case(name: "the agent's words beyond ASCII, echoed in JSON that escapes them (json.dumps)",
             answer: text(#"{"id": 2, "notes": "caf\u00e9 pending approval", "success": true}"#), sent: note("café pending approval"),
             expected: .accepted),
        Case(name: "the same, in a sentence that is not JSON, with capital hex digits",
             answer: text(#"Saved notes "caf\u00E9 pending approval""#), sent: note("café pending approval"), expected: .accepted),
        Case(name: "the agent's words beyond the BMP, escaped as a surrogate pair in a sentence",
             answer: text(#"Saved "\ud83d\ude00 awaiting approval""#), sent: note("\u{1F600} awaiting approval"), expected: .accepted),
        Case(name: "the server's own words about approval in a JSON answer's message", answer: json(["id": 1, "message": "Your change is pending approval"]),
             sent: note("café"), expected: .pending),
        Case(name: "the server's own words about approval beside the agent's escaped words",
             answer: text(#"{"notes": "caf\u00e9", "message": "awaiting approval"}"#), sent: note("café"), expected: .pending),
    ]

    @Test("each answer is read as the server meant it", arguments: cases)
    func classify(_ c: Case) {
        let kind: Kind = switch RefusalDetector().classify(c.answer, sent: c.sent) {
        case .accepted: .accepted
        case .pending: .pending
        case .refused: .refused
        case .notExecuted: .notExecuted
        }
        #expect(kind == c.expected)
    }
}
