/// A bench that could not measure what it names (a process that failed, a store that did not verify,
/// a tool that is missing): printed as `Error: …` without the usage text that follows a `ValidationError`,
/// which is kept for options the user gave wrong.
struct BenchFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
