/// One at a time, first come first served, for async callers. The guard decides calls concurrently
/// but lets one proxied write at a time through its lookups, intent, forward and outcome (what the
/// upstream's state was when a rule read it is still its state when the write goes); the upstream gets
/// one call at a time, as a stdio tool server expects, so a call that hangs or crashes it fails only itself.
public actor SerialGate {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    public init() {}

    /// Waits until every caller before this one has left.
    public func enter() async {
        if busy {
            await withCheckedContinuation { waiting.append($0) }
        } else {
            busy = true
        }
    }

    /// Lets the next caller in.
    public func leave() {
        if waiting.isEmpty {
            busy = false
        } else {
            waiting.removeFirst().resume()
        }
    }

    /// Runs `body` once every caller before this one has finished.
    public func run<T: Sendable>(_ body: @Sendable () async -> T) async -> T {
        await enter()
        let result = await body()
        leave()
        return result
    }
}
