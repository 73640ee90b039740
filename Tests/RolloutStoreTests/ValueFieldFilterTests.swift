import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

@testable import RolloutStore

/// The scorer reads `fields_changed` only where the old SQL condition would have: the filter must say
/// what SQLite says of `decision IN (...) AND (instr(shape, ?) > 0 OR ...)`, row by row.
@Suite("Store: which events' values the scorer reads")
struct ValueFieldFilterTests {
    static let decisions: [String?] = ["executed", "allowed", "rolled_back", "denied", "pending_approval", "Executed", "executed ", "", nil]
    static let shapes: [String?] = ["amount", "amount,currency", "currency", "notes,total_price", "refund_cents", "Amount", "amoun", "am",
                                    "", nil, "email,owner,phone", "fee", "coffee", "montant,prix", "é,amount", "a,,b"]

    @Test("the filter agrees with SQLite's condition on every decision and shape", arguments: [[String](), FieldRule.moneyWords, ["", "x"]])
    func agreesWithSQL(words: [String]) throws {
        let store = try TestStores.temporarySQLite()
        var filter = ValueFieldFilter(words: words)
        let condition = words.isEmpty ? "0" : words.map { _ in "instr(?, ?) > 0" }.joined(separator: " OR ")
        for decision in Self.decisions {
            for shape in Self.shapes {
                func bytes(_ text: String?) -> [UInt8]? { text.map { Array($0.utf8) } }
                let (d, s) = (bytes(decision), bytes(shape))
                let wanted = d.withOptionalRawBytes { decisionBytes in
                    s.withOptionalRawBytes { shapeBytes in filter.wants(decision: decisionBytes, shape: shapeBytes) }
                }
                let arguments: [SQLValue] = [decision.map(SQLValue.text) ?? .null] + words.flatMap { [shape.map(SQLValue.text) ?? .null, .text($0)] }
                let sql = try store.read { sql in
                    try sql.queryOne("SELECT coalesce(? IN ('executed', 'allowed', 'rolled_back') AND (\(condition)), 0)", arguments)?.int(0)
                }
                #expect(wanted == (sql == 1), "decision \(decision ?? "null"), shape \(shape ?? "null"), words \(words)")
            }
        }
    }
}

extension Optional where Wrapped == [UInt8] {
    func withOptionalRawBytes<R>(_ body: (UnsafeRawBufferPointer?) -> R) -> R {
        guard let self else { return body(nil) }
        return self.withUnsafeBytes { body($0) }
    }
}
