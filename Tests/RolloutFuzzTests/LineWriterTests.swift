import Foundation
import Testing

@testable import RolloutMCP

/// Lines written to a reader that is slow, has stopped, or is gone, on the blocking descriptors the guard
/// really gets (a `Pipe`'s, a socket pair's): the deadline holds, and what arrives arrives whole and in
/// order.
@Suite("Line writer: a deadline on blocking pipes and sockets")
struct LineWriterTests {
    enum Channel: String, CaseIterable {
        case pipe, socketPair

        /// A blocking (read, write) pair of this kind.
        func open() -> (read: Int32, write: Int32) {
            var fds: [Int32] = [0, 0]
            switch self {
            case .pipe: precondition(Glibc.pipe(&fds) == 0)
            case .socketPair: precondition(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
            }
            return (fds[0], fds[1])
        }
    }

    /// Runs `write` on a thread of its own; its outcome, or nil when it has not returned within `limit`
    /// seconds (a write blocked for good: `unblock` is then called so the thread can end).
    static func outcome(limit: Double, unblock: () -> Void, _ write: @escaping @Sendable () throws(LineWriter.Failure) -> Void) -> Result<Void, LineWriter.Failure>? {
        BrokenPipes.ignore()  // `unblock` closes the reader under a blocked write
        final class Box: @unchecked Sendable { var result: Result<Void, LineWriter.Failure>? }
        let box = Box(), done = DispatchSemaphore(value: 0)
        Thread {
            do throws(LineWriter.Failure) {
                try write()
                box.result = .success(())
            } catch {
                box.result = .failure(error)
            }
            done.signal()
        }.start()
        if done.wait(timeout: .now() + limit) == .timedOut {
            unblock()
            done.wait()
            return nil
        }
        return box.result
    }

    final class Received: @unchecked Sendable { var bytes: [UInt8] = [] }

    /// Reads `reader` on a thread of its own, `chunk` bytes at a time with `pause` seconds after each
    /// read, until the writer's end closes; `done` is signalled then.
    static func reading(_ reader: Int32, chunk: Int, pause: Double) -> (received: Received, done: DispatchSemaphore) {
        let received = Received(), done = DispatchSemaphore(value: 0)
        Thread {
            var buffer = [UInt8](repeating: 0, count: chunk)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(reader, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                received.bytes += buffer[0..<n]
                Thread.sleep(forTimeInterval: pause)
            }
            done.signal()
        }.start()
        return (received, done)
    }

    @Test("a reader that never reads: the write gives up at its deadline instead of blocking for good", arguments: Channel.allCases)
    func stoppedReader(channel: Channel) {
        let (reader, writer) = channel.open()
        defer { close(reader) }
        let line = [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20) + [10]
        let outcome = Self.outcome(limit: 60, unblock: { close(reader) }) { () throws(LineWriter.Failure) in
            try LineWriter.write(line, to: writer, timeout: 0.5)
        }
        close(writer)
        guard let outcome else {
            Issue.record("the write to a \(channel) nobody reads was still blocked after 60 s")
            return
        }
        #expect(throws: LineWriter.Failure.timedOut) { try outcome.get() }
    }

    @Test("a slow reader gets every byte, in order", arguments: Channel.allCases)
    func slowReader(channel: Channel) {
        let (reader, writer) = channel.open()
        // Distinct bytes, so a piece written twice or out of place shows.
        let line = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 % 251) } + [10]
        let (received, done) = Self.reading(reader, chunk: 3_000, pause: 0.000_5)
        let outcome = Self.outcome(limit: 120, unblock: { close(reader) }) { () throws(LineWriter.Failure) in
            try LineWriter.write(line, to: writer, timeout: 120)
        }
        close(writer)
        done.wait()
        close(reader)
        #expect(outcome.map { (try? $0.get()) != nil } == true, "\(String(describing: outcome))")
        #expect(received.bytes == line)
    }

    /// The guard's answers wait for a reader that reads nothing for `stall` seconds, not for one that
    /// reads slowly: a line that takes the reader several times the timeout arrives whole.
    @Test("with sinceProgress, a reader that keeps reading slowly is never cut off; the whole-line deadline cuts it", arguments: Channel.allCases)
    func steadyReader(channel: Channel) {
        func run(sinceProgress: Bool) -> (outcome: Result<Void, LineWriter.Failure>?, received: Int) {
            let (reader, writer) = channel.open()
            let line = [UInt8](repeating: UInt8(ascii: "x"), count: 2_000_000) + [10]
            // 16 KiB every 20 ms: about 2.5 s for the line. A socket polls writable only once most of its
            // buffer is drained (a few reads, about 0.2 s here): never a pause near the 1 s timeout.
            let (received, done) = Self.reading(reader, chunk: 16_384, pause: 0.02)
            let outcome = Self.outcome(limit: 60, unblock: { close(reader) }) { () throws(LineWriter.Failure) in
                try LineWriter.write(line, to: writer, timeout: 1, sinceProgress: sinceProgress)
            }
            close(writer)
            done.wait()
            close(reader)
            return (outcome, received.bytes.count)
        }
        let steady = run(sinceProgress: true)
        #expect(steady.outcome.map { (try? $0.get()) != nil } == true, "\(String(describing: steady.outcome))")
        #expect(steady.received == 2_000_001)
        let whole = run(sinceProgress: false)
        #expect(whole.outcome.map { (try? $0.get()) == nil } == true, "the same reader misses a 1 s deadline on the whole line")
    }

    @Test("a reader that is gone: closed, not a crash (SIGPIPE is ignored)", arguments: Channel.allCases)
    func goneReader(channel: Channel) {
        BrokenPipes.ignore()
        let (reader, writer) = channel.open()
        close(reader)
        defer { close(writer) }
        #expect(throws: LineWriter.Failure.closed) {
            try LineWriter.write(Array("{}\n".utf8), to: writer, timeout: 5)
        }
    }
}
