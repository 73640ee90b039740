/// One row of a query's result: values by position, and by column name.
public struct SQLRow: Sendable {
    public let columns: [String]
    public let values: [SQLValue]

    public init(columns: [String], values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    public subscript(_ index: Int) -> SQLValue { index < values.count ? values[index] : .null }

    public subscript(_ name: String) -> SQLValue {
        guard let i = columns.firstIndex(of: name) else { return .null }
        return values[i]
    }

    public func int(_ index: Int) -> Int64 { self[index].int64 ?? 0 }
    public func int(_ name: String) -> Int64 { self[name].int64 ?? 0 }
    public func string(_ index: Int) -> String { self[index].string ?? "" }
    public func string(_ name: String) -> String { self[name].string ?? "" }
    public func optionalString(_ index: Int) -> String? { self[index].string }
    public func optionalString(_ name: String) -> String? { self[name].string }
    public func optionalInt(_ index: Int) -> Int64? { self[index].int64 }
    public func optionalInt(_ name: String) -> Int64? { self[name].int64 }
}
