import Foundation
import Logging
import MCP

/// The MCP stdio transport done with a blocking reader thread instead of the SDK's 10 ms polling: a
/// message is handed on as soon as its line is complete, so calls are limited by the server, not by
/// a sleep. It also tells its owner at once when the server closes its output or writes a line that is
/// not JSON-RPC, which the SDK's transport cannot.
public actor LineTransport: Transport {
    public nonisolated let logger: Logger
    private let readFD: Int32
    private let writeFD: Int32
    private let stream: AsyncThrowingStream<Data, Swift.Error>
    private let continuation: AsyncThrowingStream<Data, Swift.Error>.Continuation
    private let onFailure: @Sendable (LineTransportEvent) -> Void
    private var connected = false
    /// How long a write may wait for a server that does not read its input.
    private let writeTimeout: Double

    /// `read` is the server's stdout, `write` its stdin.
    public init(read: Int32, write: Int32, writeTimeout: Double = 10, onFailure: @escaping @Sendable (LineTransportEvent) -> Void) {
        readFD = read
        writeFD = write
        self.writeTimeout = writeTimeout
        self.onFailure = onFailure
        logger = Logger(label: "rollout.mcp.transport", factory: { _ in SwiftLogNoOpLogHandler() })
        var c: AsyncThrowingStream<Data, Swift.Error>.Continuation!
        stream = AsyncThrowingStream { c = $0 }
        continuation = c
    }

    public func connect() async throws {
        guard !connected else { return }
        connected = true
        let flags = fcntl(writeFD, F_GETFL)
        _ = fcntl(writeFD, F_SETFL, flags | O_NONBLOCK)
        let reader = Thread { [readFD, continuation, onFailure] in
            Self.readLoop(fd: readFD, continuation: continuation, onFailure: onFailure)
        }
        reader.name = "rollout.mcp.reader"
        reader.start()
    }

    private static func readLoop(fd: Int32, continuation: AsyncThrowingStream<Data, Swift.Error>.Continuation, onFailure: @Sendable (LineTransportEvent) -> Void) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var pending: [UInt8] = []
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                onFailure(.closed)
                continuation.finish(throwing: MCPError.connectionClosed)
                return
            }
            if n == 0 {
                onFailure(.closed)
                continuation.finish(throwing: MCPError.connectionClosed)
                return
            }
            pending.append(contentsOf: buffer[0..<n])
            var start = 0
            while let newline = pending[start...].firstIndex(of: 0x0A) {
                var line = pending[start..<newline]
                start = newline + 1
                while let last = line.last, last == 0x0D || last == 0x20 { line = line.dropLast() }
                guard let first = line.first(where: { $0 != 0x20 && $0 != 0x09 }) else { continue }
                guard first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else {
                    onFailure(.garbage(String(decoding: line, as: UTF8.self)))
                    continuation.finish(throwing: MCPError.parseError("not JSON-RPC"))
                    return
                }
                continuation.yield(Data(line))
            }
            if start > 0 { pending.removeFirst(start) }
        }
    }

    public func disconnect() async {
        guard connected else { return }
        connected = false
        continuation.finish()
    }

    public func send(_ data: Data) async throws {
        var bytes = [UInt8](data)
        bytes.append(0x0A)
        var offset = 0
        let deadline = Date().addingTimeInterval(writeTimeout)
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(writeFD, $0.baseAddress, $0.count) }
            if n > 0 {
                offset += n
                continue
            }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                if Date() > deadline { throw MCPError.transportError(POSIXError(.ETIMEDOUT)) }
                var poller = pollfd(fd: writeFD, events: Int16(POLLOUT), revents: 0)
                _ = poll(&poller, 1, 50)
                continue
            }
            throw MCPError.connectionClosed
        }
    }

    public func receive() -> AsyncThrowingStream<Data, Swift.Error> {
        stream
    }
}

/// What the reader saw go wrong.
public enum LineTransportEvent: Sendable {
    /// The server closed its output (it exited or crashed).
    case closed
    /// A line that is not JSON-RPC.
    case garbage(String)
}
