/// One at a time, first come first served, for async callers: the guard decides calls concurrently but
/// sends its upstream one call at a time, as a stdio tool server expects, so a call that hangs or
/// crashes the server fails only itself.
actor SerialGate {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    /// Runs `body` once every caller before this one has finished.
    func run<T: Sendable>(_ body: @Sendable () async -> T) async -> T {
        if busy {
            await withCheckedContinuation { waiting.append($0) }
        } else {
            busy = true
        }
        let result = await body()
        if waiting.isEmpty {
            busy = false
        } else {
            waiting.removeFirst().resume()
        }
        return result
    }
}
