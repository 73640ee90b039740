import Foundation
import RolloutCore
import Testing

@testable import RolloutMCP

/// The guard's answers to its agent: an answer the pipe takes at once is written on the caller's thread,
/// any other on the writer's queue; either way every answer arrives whole, none overtakes one handed
/// over before it, and an agent that stops reading is noticed.
@Suite("Reply writer: whole answers, in order, written at once or queued")
struct ReplyWriterTests {
    /// A pipe whose read end a test drains on a thread of its own; `lines()` waits for the writer to close.
    final class Drain: @unchecked Sendable {
        let read: Int32, write: Int32
        private var bytes: [UInt8] = []
        private let done = DispatchSemaphore(value: 0)
        private let go = DispatchSemaphore(value: 0)

        init() {
            var fds: [Int32] = [0, 0]
            precondition(pipe(&fds) == 0)
            read = fds[0]
            write = fds[1]
        }

        /// Starts reading, `pause` seconds between reads (a slow agent).
        func start(pause: Double = 0) {
            Thread {
                var buffer = [UInt8](repeating: 0, count: 1024)
                while true {
                    let n = buffer.withUnsafeMutableBytes { Foundation.read(self.read, $0.baseAddress, $0.count) }
                    if n <= 0 { break }
                    self.bytes += buffer[0..<n]
                    if pause > 0 { Thread.sleep(forTimeInterval: pause) }
                }
                self.done.signal()
            }.start()
        }

        func lines() -> [JSONValue] {
            close(write)
            done.wait()
            return bytes.split(separator: 10, omittingEmptySubsequences: false).dropLast().map { (try? JSONValue.parse(String(decoding: $0, as: UTF8.self))) ?? .null }
        }
    }

    static func answer(_ id: Int, size: Int) -> JSONRPCMessage {
        .response(id: .number(Double(id)), result: ["text": .string(String(repeating: "x", count: size))])
    }

    @Test("an answer handed over while another waits on the queue goes after it, though the pipe has room")
    func noOvertaking() async throws {
        let drain = Drain()
        let queue = DispatchQueue(label: "test.replies")
        let writer = GuardServer.ReplyWriter(output: drain.write, queue: queue)
        queue.suspend()  // the long answer stays queued while the pipe is empty
        let first = Task { await writer.send(Self.answer(1, size: 10_000)) }
        for _ in 0..<500 where writer.backlog == 0 { try await Task.sleep(nanoseconds: 2_000_000) }
        #expect(writer.backlog == 1, "the long answer is on the queue")
        let second = Task { await writer.send(Self.answer(2, size: 10)) }
        for _ in 0..<500 where writer.backlog < 2 { try await Task.sleep(nanoseconds: 2_000_000) }
        #expect(writer.backlog == 2, "the short one queued behind it instead of going at once")
        queue.resume()
        drain.start()
        await first.value
        await second.value
        let ids = drain.lines().map { $0["id"]?.doubleValue ?? -1 }
        #expect(ids == [1, 2])
    }

    @Test("a short answer to an idle writer is written at once, on the caller's thread")
    func atOnce() async {
        let drain = Drain()
        let queue = DispatchQueue(label: "test.replies")
        queue.suspend()  // were it queued, it would never be written
        let writer = GuardServer.ReplyWriter(output: drain.write, queue: queue)
        let sent = Task { await writer.send(Self.answer(7, size: 100)) }
        try? await Task.sleep(nanoseconds: 100_000_000)
        var poller = pollfd(fd: drain.read, events: Int16(POLLIN), revents: 0)
        #expect(poll(&poller, 1, 0) == 1 && writer.backlog == 0, "it is in the pipe already, not on the queue")
        queue.resume()
        await sent.value
        drain.start()
        #expect(drain.lines().map { $0["id"]?.doubleValue } == [7])
    }

    /// Reads what is waiting on `fd` within `seconds`, as lines (a terminal's CRs dropped).
    static func readLines(_ fd: Int32, count: Int, seconds: Double = 10) -> [JSONValue] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let deadline = Date().addingTimeInterval(seconds)
        while bytes.filter({ $0 == 10 }).count < count, Date() < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) == 1 else { continue }
            let n = buffer.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        let lines = bytes.filter { $0 != 13 }.split(separator: 10)
        return lines.map { (try? JSONValue.parse(String(decoding: $0, as: UTF8.self))) ?? .null }
    }

    static func readable(_ fd: Int32) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, 0) == 1
    }

    @Test("a terminal is never written on the caller's thread: it can block with room for less than an answer")
    func terminal() async throws {
        var master: Int32 = -1, slave: Int32 = -1
        try #require(openpty(&master, &slave, nil, nil, nil) == 0)
        defer { close(slave); close(master) }
        var raw = termios()
        tcgetattr(slave, &raw)
        cfmakeraw(&raw)
        tcsetattr(slave, TCSANOW, &raw)
        let queue = DispatchQueue(label: "test.replies")
        queue.suspend()
        let writer = GuardServer.ReplyWriter(output: slave, queue: queue)
        let sent = Task { await writer.send(Self.answer(3, size: 10)) }
        for _ in 0..<500 where writer.backlog == 0 { try await Task.sleep(nanoseconds: 2_000_000) }
        #expect(writer.backlog == 1 && !Self.readable(master), "a short answer to a terminal went to the queue, not out at once")
        queue.resume()
        await sent.value
        #expect(Self.readLines(master, count: 1).map { $0["id"]?.doubleValue } == [3])
    }

    @Test("a socket (Node gives its children socket pairs) takes what fits without waiting; the rest queues behind")
    func socketPair() async throws {
        var fds: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let queue = DispatchQueue(label: "test.replies")
        queue.suspend()
        let writer = GuardServer.ReplyWriter(output: fds[0], queue: queue)
        await writer.send(Self.answer(1, size: 100))
        #expect(writer.backlog == 0 && Self.readable(fds[1]), "a short answer went out at once")
        // Far more than the socket's buffer: part goes at once, the rest waits on the (held) queue.
        let long = Task { await writer.send(Self.answer(2, size: 2_000_000)) }
        for _ in 0..<500 where writer.backlog == 0 { try await Task.sleep(nanoseconds: 2_000_000) }
        #expect(writer.backlog == 1)
        let short = Task { await writer.send(Self.answer(3, size: 10)) }
        for _ in 0..<500 where writer.backlog < 2 { try await Task.sleep(nanoseconds: 2_000_000) }
        #expect(writer.backlog == 2, "the short one waits behind the long one's rest")
        queue.resume()
        let peer = fds[1]
        let reader = Task.detached { Self.readLines(peer, count: 3, seconds: 30) }
        await long.value
        await short.value
        let lines = await reader.value
        #expect(lines.map { $0["id"]?.doubleValue } == [1, 2, 3])
        #expect(lines.count == 3 && lines[1]["result"]?["text"]?.stringValue?.count == 2_000_000, "the long answer arrived whole")
    }

    @Test("64 callers, answers of every size, a reader that pauses: every answer arrives whole, each caller's in its order")
    func concurrentCallers() async throws {
        let drain = Drain()
        let writer = GuardServer.ReplyWriter(output: drain.write)
        drain.start(pause: 0.0002)
        var generator = SystemRandomNumberGenerator()
        let sizes = (0..<64 * 20).map { _ in Int.random(in: 0...9_000, using: &generator) }
        await withTaskGroup(of: Void.self) { group in
            for caller in 0..<64 {
                group.addTask {
                    for i in 0..<20 { await writer.send(Self.answer(caller * 1000 + i, size: sizes[caller * 20 + i])) }
                }
            }
        }
        let lines = drain.lines()
        #expect(lines.count == 64 * 20)
        #expect(!lines.contains(.null), "every line parses: no answer was cut or interleaved")
        for caller in 0..<64 {
            let mine = lines.compactMap { $0["id"]?.doubleValue }.map(Int.init).filter { $0 / 1000 == caller }
            #expect(mine == (0..<20).map { caller * 1000 + $0 })
        }
        for line in lines {
            let id = Int(line["id"]?.doubleValue ?? -1)
            #expect(line["result"]?["text"]?.stringValue?.count == sizes[(id / 1000) * 20 + id % 1000])
        }
        #expect(!writer.closed)
    }

    @Test("an agent that closed its end: the answer fails once, and the writer says the agent stopped reading")
    func closedReader() async {
        let drain = Drain()
        close(drain.read)
        BrokenPipes.ignore()
        let writer = GuardServer.ReplyWriter(output: drain.write)
        await writer.send(Self.answer(1, size: 10))
        #expect(writer.closed)
        await writer.send(Self.answer(2, size: 100_000))
        #expect(writer.closed && writer.backlog == 0)
        #expect(writer.undelivered == 2, "the answer that failed and the one not tried after it")
        close(drain.write)
    }
}
