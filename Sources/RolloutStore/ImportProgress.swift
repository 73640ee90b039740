/// How far an import is: events imported so far, and the share of the file read (nil for standard input).
public struct ImportProgress: Sendable {
    public var events: Int
    public var fraction: Double?

    public init(events: Int, fraction: Double?) {
        self.events = events
        self.fraction = fraction
    }
}
